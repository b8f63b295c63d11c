# fish completion for deerimg
# Generated from the Typer app by `python -m tools.gen`; do not edit.
# Copy to ~/.config/fish/completions/deerimg.fish.
# Static: pressing TAB never starts Python. Model ids come from the cache `deerimg models` keeps,
# else from deerimg's family table.

# The command path on the command line ("config set"), then its arguments, one a line.
function __deerimg_state
    set -l valued 'generate/-m' 'generate/--model' 'generate/-s' 'generate/--size' 'generate/--aspect' 'generate/--resolution' 'generate/-i' 'generate/--image' 'generate/--upscale' 'generate/-q' 'generate/--quality' 'generate/-n' 'generate/--count' 'generate/--format' 'generate/--compression' 'generate/--background' 'generate/--moderation' 'generate/--complexity' 'generate/--frames' 'generate/--frame-duration' 'generate/--style' 'generate/--response-format' 'generate/--user' 'generate/-p' 'generate/--param' 'generate/-o' 'generate/--output' 'generate/-d' 'generate/--output-dir' 'generate/-f' 'generate/--file' 'generate/-j' 'generate/--jobs' 'generate/--max-jobs' 'generate/--max-cost' 'generate/--partial-images' 'generate/--retries' 'generate/--timeout' 'edit/--mask' 'edit/--markup' 'edit/--input-fidelity' 'edit/-m' 'edit/--model' 'edit/-s' 'edit/--size' 'edit/--aspect' 'edit/--resolution' 'edit/-q' 'edit/--quality' 'edit/-n' 'edit/--count' 'edit/--format' 'edit/--compression' 'edit/--background' 'edit/--moderation' 'edit/--complexity' 'edit/--frames' 'edit/--frame-duration' 'edit/--response-format' 'edit/--user' 'edit/-p' 'edit/--param' 'edit/-o' 'edit/--output' 'edit/-d' 'edit/--output-dir' 'edit/-f' 'edit/--file' 'edit/-j' 'edit/--jobs' 'edit/--max-jobs' 'edit/--max-cost' 'edit/--partial-images' 'edit/--retries' 'edit/--timeout' 'history/-n' 'history/--limit' 'history/--search' 'history/--since' 'fetch/-o' 'fetch/--output' 'fetch/-m' 'fetch/--model' 'fetch/--timeout' 'gallery/--dir' 'gallery/--since' 'gallery/--search' 'gallery/-o' 'gallery/--output' 'models/--search' 'models/--family' 'prices/-m' 'prices/--model'
    set -l commands '/generate' '/edit' '/info' '/history' '/tasks' '/fetch' '/gallery' '/models' '/prices' '/completion' '/config' 'config/set' 'config/get' 'config/unset' 'config/list' 'config/path'
    set -l path
    set -l args
    set -l skip 0
    set -l dashdash 0
    for token in (commandline -opc)[2..-1]
        set -l here (string join ' ' -- $path)
        if test $skip = 1
            set skip 0
        else if test $dashdash = 0; and string match -qr -- '^-.' $token
            if test $token = --
                set dashdash 1
            else if not string match -q -- '*=*' $token; and contains -- "$here/$token" $valued
                set skip 1
            end
        else if test (count $args) = 0; and contains -- "$here/$token" $commands
            set -a path $token
        else
            set -a args $token
        end
    end
    echo (string join ' ' -- $path)
    string join \n -- $args
end

# Is the command path $argv[1], with $argv[2] arguments so far when given?
function __deerimg_at
    set -l state (__deerimg_state)
    test "$state[1]" = "$argv[1]"; or return 1
    test (count $argv) -lt 2; or test (math (count $state) - 1) = $argv[2]
end

# The image-model ids of the last `deerimg models` (catalog.cache_path()), else those deerimg's
# family table knows (families.py).
function __deerimg_model_ids
    set -l file "$DEERIMG_CONFIG_DIR/cache/models.txt"
    if test -z "$DEERIMG_CONFIG_DIR"
        set -l cache $HOME/.cache
        test -n "$XDG_CACHE_HOME"; and set cache $XDG_CACHE_HOME
        set file $cache/deerimg/models.txt
        test -r $file; or set file $HOME/Library/Caches/deerimg/models.txt
    end
    set -l ids
    test -r "$file"; and set ids (string match -rv -- '^\\s*$' <$file)
    set -q ids[1]; or set ids gpt-image-2 gpt-image-2.5-sunburst gpt-image-2.5-flare gpt-image-2.6-sunburst gpt-image-2.6-flare gpt-image-1 gpt-image-1.5 gpt-image-1-mini chatgpt-image-latest dall-e-3 dall-e-2 doubao-seedream-3-0-t2i-250415 doubao-seedream-4-0-250828 doubao-seedream-4-5-251128 doubao-seedream-5-0-260128 bytedance-seedEdit-3.0-i2i doubao-seededit-3-0-i2i-250628 gemini-3.1-flash-image-preview gemini-3-pro-image-preview gemini-2.5-flash-image flux-kontext-pro flux-kontext-max flux-pro-1.1 flux-pro-1.1-ultra flux-pro flux-dev black-forest-labs/flux-kontext-pro black-forest-labs/flux-2-pro black-forest-labs/flux-schnell stability-ai/stable-diffusion-3.5-large midjourney niji-journey kling-v2-1 kling-v2 kling-v1-5 kling-v1
    printf '%s\n' $ids
end

# The VALUE of `config set KEY VALUE`, per key.
function __deerimg_config_value
    set -l state (__deerimg_state)
    switch "$state[2]"
        case model
            __deerimg_model_ids
        case quality
            printf '%s\n' auto low medium high xhigh max standard hd
        case format
            printf '%s\n' png jpeg webp
        case output-dir output_dir
            __fish_complete_directories (commandline -ct)
        case history
            printf '%s\n' true false
        case retry-timeouts retry_timeouts
            printf '%s\n' true false
        case preview
            printf '%s\n' true false
    end
end

complete -c deerimg -f
complete -c deerimg -n "__deerimg_at '' 0" -a 'generate' -d 'Generate images from a prompt or a prompt file'
complete -c deerimg -n "__deerimg_at '' 0" -a 'edit' -d 'Edit images with a prompt (POST /v1/images/edits); default output: PHOTO-edit.EXT'
complete -c deerimg -n "__deerimg_at '' 0" -a 'info' -d 'Show what images carry: deerimg\'s record, C2PA credentials, other tools\' parameters'
complete -c deerimg -n "__deerimg_at '' 0" -a 'history' -d 'Show the history ledger: every generation and edit, newest last, with what each cost'
complete -c deerimg -n "__deerimg_at '' 0" -a 'tasks' -d 'List the task APIs\' tasks (FLUX, Replicate, Midjourney, Kling) the ledger holds'
complete -c deerimg -n "__deerimg_at '' 0" -a 'fetch' -d 'Finish a task a run submitted and did not see end (or every pending one): poll it, never submit it again, and write its images where that run meant to, or to -o'
complete -c deerimg -n "__deerimg_at '' 0" -a 'gallery' -d 'Write an HTML contact sheet of images: prompt, model, size, cost, date, request id'
complete -c deerimg -n "__deerimg_at '' 0" -a 'models' -d 'List the image models DeerAPI serves (GET /v1/models): id, family, owner, created date'
complete -c deerimg -n "__deerimg_at '' 0" -a 'prices' -d 'Show the prices in force: the config file\'s own rows first, then deerimg\'s table'
complete -c deerimg -n "__deerimg_at '' 0" -a 'completion' -d 'Print the completion script for SHELL'
complete -c deerimg -n "__deerimg_at '' 0" -a 'config' -d 'Read and change settings in config.toml (the API key, defaults)'
complete -c deerimg -n "__deerimg_at ''" -l version -d 'Print the version and exit'
complete -c deerimg -n "__deerimg_at ''" -l debug -d 'Show Python tracebacks (also DEERIMG_DEBUG=1)'
complete -c deerimg -n "__deerimg_at ''" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'generate'" -s m -l model -x -a '(__deerimg_model_ids)' -d 'Model id; repeatable: each prompt runs on each model, in the order given'
complete -c deerimg -n "__deerimg_at 'generate'" -s s -l size -x -d 'WxH (such as 1024x1536), a tier (2K: Seedream) or auto, as the model\'s family takes it'
complete -c deerimg -n "__deerimg_at 'generate'" -l aspect -x -d 'W:H, such as 16:9: sent as a size of that shape the model\'s family takes (-s wins)'
complete -c deerimg -n "__deerimg_at 'generate'" -l resolution -x -a '512px 1K 2K 3K 4K' -d 'One of: 512px, 1K, 2K, 3K, 4K: a size tier, sent as the model\'s family takes it (-s wins)'
complete -c deerimg -n "__deerimg_at 'generate'" -s i -l image -r -F -d 'A reference image (PNG, JPEG or WebP file, or a URL), repeatable: sent as the model\'s family takes them (GPT image: an edit; Seedream: data URLs)'
complete -c deerimg -n "__deerimg_at 'generate'" -l upscale -x -d 'Midjourney: after the 2x2 grid, upscale these of its images, each saved as an image of its own: 1, 2, 3, 4, a list such as 1,3, or all'
complete -c deerimg -n "__deerimg_at 'generate'" -s q -l quality -x -a 'auto low medium high xhigh max standard hd' -d 'One of: auto, low, medium, high, xhigh, max, standard, hd (standard, hd: DALL·E only), as the model\'s family takes it'
complete -c deerimg -n "__deerimg_at 'generate'" -s n -l count -x -d 'Images per prompt, 1-10'
complete -c deerimg -n "__deerimg_at 'generate'" -l format -x -a 'png jpeg webp gif svg' -d 'png, jpeg, webp, gif or svg (output_format; gif and svg: GPT image 2.5 and later)'
complete -c deerimg -n "__deerimg_at 'generate'" -l compression -x -d '0-100, jpeg and webp only (output_compression)'
complete -c deerimg -n "__deerimg_at 'generate'" -l background -x -a 'transparent opaque auto' -d 'One of: transparent, opaque, auto'
complete -c deerimg -n "__deerimg_at 'generate'" -l moderation -x -a 'auto low' -d 'One of: auto, low'
complete -c deerimg -n "__deerimg_at 'generate'" -l complexity -x -a 'low medium high' -d 'One of: low, medium, high: how much the model plans the image, apart from --quality (GPT image 2.5 and later)'
complete -c deerimg -n "__deerimg_at 'generate'" -l frames -x -d '2-16: frames of GIF output (frame_count; --format gif or a .gif -o name)'
complete -c deerimg -n "__deerimg_at 'generate'" -l frame-duration -x -d 'Milliseconds each frame of GIF output shows (frame_duration_ms; the API rounds it to 10 ms)'
complete -c deerimg -n "__deerimg_at 'generate'" -l watermark -d 'Ask for the model\'s visible watermark (Seedream, SeedEdit: deerimg sends watermark false otherwise); GPT image and DALL·E have none'
complete -c deerimg -n "__deerimg_at 'generate'" -l style -x -a 'vivid natural' -d 'One of: vivid, natural (a legacy field: dall-e-3 only)'
complete -c deerimg -n "__deerimg_at 'generate'" -l response-format -x -a 'url b64_json' -d 'One of: url, b64_json (dall-e models; GPT image models always answer in base64)'
complete -c deerimg -n "__deerimg_at 'generate'" -l user -x -d 'An end-user id for abuse monitoring: sent as safety_identifier to GPT image models (OpenAI deprecated user), as user to others'
complete -c deerimg -n "__deerimg_at 'generate'" -s p -l param -x -d 'KEY=VALUE, any request field, sent as is (VALUE is parsed as JSON when it parses); repeatable'
complete -c deerimg -n "__deerimg_at 'generate'" -s o -l output -r -F -d 'Image path; \'-\' for standard output'
complete -c deerimg -n "__deerimg_at 'generate'" -s d -l output-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Folder for the images, created when missing'
complete -c deerimg -n "__deerimg_at 'generate'" -l force -d 'Overwrite an existing -o target'
complete -c deerimg -n "__deerimg_at 'generate'" -l skip-existing -d 'Skip prompts whose images all exist, and ask a prompt with some of them only for the rest (-n), so a re-run pays only for what is missing'
complete -c deerimg -n "__deerimg_at 'generate'" -l json -d 'One JSON object per image (and per failed prompt) on standard output'
complete -c deerimg -n "__deerimg_at 'generate'" -l quiet -d 'Errors only on standard error'
complete -c deerimg -n "__deerimg_at 'generate'" -l no-metadata -d 'Do not embed provenance (prompt, model, request id, the IPTC \'made by AI\' label) in the images'
complete -c deerimg -n "__deerimg_at 'generate'" -l sidecar -d 'Also write the provenance to FILE.json beside each image (always done when the image carries C2PA content credentials)'
complete -c deerimg -n "__deerimg_at 'generate'" -l no-history -d 'Do not append this run to the history ledger (see `deerimg history`)'
complete -c deerimg -n "__deerimg_at 'generate'" -s f -l file -r -F -d 'Prompt file: one prompt a line, \'#\' comments, JSON lines; \'-\' for standard input'
complete -c deerimg -n "__deerimg_at 'generate'" -s j -l jobs -x -d 'Requests at once, 1-32, or auto: each request\'s start paced to the rate limit learned from 429s and x-ratelimit-* headers'
complete -c deerimg -n "__deerimg_at 'generate'" -l max-jobs -x -d 'With -j auto, the most requests at once, 1-256'
complete -c deerimg -n "__deerimg_at 'generate'" -l fail-fast -d 'Stop at the first failed prompt'
complete -c deerimg -n "__deerimg_at 'generate'" -l max-cost -x -d 'Budget in USD, never passed: a request is sent only while what was spent, what is in flight and its own estimate stay within it (deerimg prices)'
complete -c deerimg -n "__deerimg_at 'generate'" -l preview -d 'Show each saved image in the terminal, on standard error (Kitty, Ghostty, WezTerm, iTerm2; inside tmux too)'
complete -c deerimg -n "__deerimg_at 'generate'" -l partial-images -x -d 'Stream the image, with 1 to 3 partial images before it (GPT image models; not GIF or SVG): each is written as NAME.partial-K.EXT, or only shown with --preview, and removed once the image is saved'
complete -c deerimg -n "__deerimg_at 'generate'" -l open -d 'Open each saved image with the system\'s viewer when the run ends'
complete -c deerimg -n "__deerimg_at 'generate'" -l retries -x -d 'Retries of 408/409/429/5xx and network errors, 0-20'
complete -c deerimg -n "__deerimg_at 'generate'" -l retry-timeouts -d 'Retry a generation that timed out once sent, or whose stream ended before its image: it may have been billed, so each retry may pay twice'
complete -c deerimg -n "__deerimg_at 'generate'" -l timeout -x -d 'Seconds to wait for an answer'
complete -c deerimg -n "__deerimg_at 'generate'" -l dry-run -d 'Print each request as JSON instead of sending it (no key needed)'
complete -c deerimg -n "__deerimg_at 'generate'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'edit'" -l mask -r -F -d 'PNG with an alpha channel, the first image\'s size: transparent pixels mark where to edit'
complete -c deerimg -n "__deerimg_at 'edit'" -l markup -r -F -d 'Transparent PNG, the first image\'s size, drawn over it to guide the edit (GPT image 2.5 and later; not with --mask)'
complete -c deerimg -n "__deerimg_at 'edit'" -l input-fidelity -x -a 'high low' -d 'One of: high, low: how closely to keep the inputs\' details'
complete -c deerimg -n "__deerimg_at 'edit'" -s m -l model -x -a '(__deerimg_model_ids)' -d 'Model id; repeatable: each prompt runs on each model, in the order given'
complete -c deerimg -n "__deerimg_at 'edit'" -s s -l size -x -d 'WxH (such as 1024x1536), a tier (2K: Seedream) or auto, as the model\'s family takes it'
complete -c deerimg -n "__deerimg_at 'edit'" -l aspect -x -d 'W:H, such as 16:9: sent as a size of that shape the model\'s family takes (-s wins)'
complete -c deerimg -n "__deerimg_at 'edit'" -l resolution -x -a '512px 1K 2K 3K 4K' -d 'One of: 512px, 1K, 2K, 3K, 4K: a size tier, sent as the model\'s family takes it (-s wins)'
complete -c deerimg -n "__deerimg_at 'edit'" -s q -l quality -x -a 'auto low medium high xhigh max standard hd' -d 'One of: auto, low, medium, high, xhigh, max, standard, hd (standard, hd: DALL·E only), as the model\'s family takes it'
complete -c deerimg -n "__deerimg_at 'edit'" -s n -l count -x -d 'Images per prompt, 1-10'
complete -c deerimg -n "__deerimg_at 'edit'" -l format -x -a 'png jpeg webp gif svg' -d 'png, jpeg, webp, gif or svg (output_format; gif and svg: GPT image 2.5 and later)'
complete -c deerimg -n "__deerimg_at 'edit'" -l compression -x -d '0-100, jpeg and webp only (output_compression)'
complete -c deerimg -n "__deerimg_at 'edit'" -l background -x -a 'transparent opaque auto' -d 'One of: transparent, opaque, auto'
complete -c deerimg -n "__deerimg_at 'edit'" -l moderation -x -a 'auto low' -d 'One of: auto, low'
complete -c deerimg -n "__deerimg_at 'edit'" -l complexity -x -a 'low medium high' -d 'One of: low, medium, high: how much the model plans the image, apart from --quality (GPT image 2.5 and later)'
complete -c deerimg -n "__deerimg_at 'edit'" -l frames -x -d '2-16: frames of GIF output (frame_count; --format gif or a .gif -o name)'
complete -c deerimg -n "__deerimg_at 'edit'" -l frame-duration -x -d 'Milliseconds each frame of GIF output shows (frame_duration_ms; the API rounds it to 10 ms)'
complete -c deerimg -n "__deerimg_at 'edit'" -l watermark -d 'Ask for the model\'s visible watermark (Seedream, SeedEdit: deerimg sends watermark false otherwise); GPT image and DALL·E have none'
complete -c deerimg -n "__deerimg_at 'edit'" -l response-format -x -a 'url b64_json' -d 'One of: url, b64_json (dall-e models; GPT image models always answer in base64)'
complete -c deerimg -n "__deerimg_at 'edit'" -l user -x -d 'An end-user id for abuse monitoring: sent as safety_identifier to GPT image models (OpenAI deprecated user), as user to others'
complete -c deerimg -n "__deerimg_at 'edit'" -s p -l param -x -d 'KEY=VALUE, any request field, sent as is (VALUE is parsed as JSON when it parses); repeatable'
complete -c deerimg -n "__deerimg_at 'edit'" -s o -l output -r -F -d 'Image path; \'-\' for standard output'
complete -c deerimg -n "__deerimg_at 'edit'" -s d -l output-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Folder for the images, created when missing'
complete -c deerimg -n "__deerimg_at 'edit'" -l force -d 'Overwrite an existing -o target'
complete -c deerimg -n "__deerimg_at 'edit'" -l skip-existing -d 'Skip prompts whose images all exist, and ask a prompt with some of them only for the rest (-n), so a re-run pays only for what is missing'
complete -c deerimg -n "__deerimg_at 'edit'" -l json -d 'One JSON object per image (and per failed prompt) on standard output'
complete -c deerimg -n "__deerimg_at 'edit'" -l quiet -d 'Errors only on standard error'
complete -c deerimg -n "__deerimg_at 'edit'" -l no-metadata -d 'Do not embed provenance (prompt, model, request id, the IPTC \'made by AI\' label) in the images'
complete -c deerimg -n "__deerimg_at 'edit'" -l sidecar -d 'Also write the provenance to FILE.json beside each image (always done when the image carries C2PA content credentials)'
complete -c deerimg -n "__deerimg_at 'edit'" -l no-history -d 'Do not append this run to the history ledger (see `deerimg history`)'
complete -c deerimg -n "__deerimg_at 'edit'" -s f -l file -r -F -d 'Prompt file: one prompt a line, \'#\' comments, JSON lines; \'-\' for standard input'
complete -c deerimg -n "__deerimg_at 'edit'" -s j -l jobs -x -d 'Requests at once, 1-32, or auto: each request\'s start paced to the rate limit learned from 429s and x-ratelimit-* headers'
complete -c deerimg -n "__deerimg_at 'edit'" -l max-jobs -x -d 'With -j auto, the most requests at once, 1-256'
complete -c deerimg -n "__deerimg_at 'edit'" -l fail-fast -d 'Stop at the first failed prompt'
complete -c deerimg -n "__deerimg_at 'edit'" -l max-cost -x -d 'Budget in USD, never passed: a request is sent only while what was spent, what is in flight and its own estimate stay within it (deerimg prices)'
complete -c deerimg -n "__deerimg_at 'edit'" -l preview -d 'Show each saved image in the terminal, on standard error (Kitty, Ghostty, WezTerm, iTerm2; inside tmux too)'
complete -c deerimg -n "__deerimg_at 'edit'" -l partial-images -x -d 'Stream the image, with 1 to 3 partial images before it (GPT image models; not GIF or SVG): each is written as NAME.partial-K.EXT, or only shown with --preview, and removed once the image is saved'
complete -c deerimg -n "__deerimg_at 'edit'" -l open -d 'Open each saved image with the system\'s viewer when the run ends'
complete -c deerimg -n "__deerimg_at 'edit'" -l retries -x -d 'Retries of 408/409/429/5xx and network errors, 0-20'
complete -c deerimg -n "__deerimg_at 'edit'" -l retry-timeouts -d 'Retry a generation that timed out once sent, or whose stream ended before its image: it may have been billed, so each retry may pay twice'
complete -c deerimg -n "__deerimg_at 'edit'" -l timeout -x -d 'Seconds to wait for an answer'
complete -c deerimg -n "__deerimg_at 'edit'" -l dry-run -d 'Print each request as JSON instead of sending it (no key needed)'
complete -c deerimg -n "__deerimg_at 'edit'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'edit'" -F
complete -c deerimg -n "__deerimg_at 'info'" -l json -d 'One JSON array on stdout'
complete -c deerimg -n "__deerimg_at 'info'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'info'" -F
complete -c deerimg -n "__deerimg_at 'history'" -s n -l limit -x -d 'How many of the latest entries'
complete -c deerimg -n "__deerimg_at 'history'" -l search -x -d 'Only entries whose prompt, model or files contain TEXT'
complete -c deerimg -n "__deerimg_at 'history'" -l since -x -d 'Only entries since a date (YYYY-MM-DD), a time (ISO 8601) or a span ago (3d, 12h, 2w)'
complete -c deerimg -n "__deerimg_at 'history'" -l usage -d 'Images, tokens and cost per day and model'
complete -c deerimg -n "__deerimg_at 'history'" -l json -d 'JSON on stdout'
complete -c deerimg -n "__deerimg_at 'history'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'tasks'" -l all -d 'Finished tasks too'
complete -c deerimg -n "__deerimg_at 'tasks'" -l json -d 'JSON on stdout'
complete -c deerimg -n "__deerimg_at 'tasks'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'fetch'" -s o -l output -r -F -d 'Image path; \'-\' for standard output'
complete -c deerimg -n "__deerimg_at 'fetch'" -s m -l model -x -a '(__deerimg_model_ids)' -d 'The model a task the ledger does not hold was submitted to (its route)'
complete -c deerimg -n "__deerimg_at 'fetch'" -l force -d 'Overwrite an existing -o target'
complete -c deerimg -n "__deerimg_at 'fetch'" -l json -d 'One JSON object per image (and per failed prompt) on standard output'
complete -c deerimg -n "__deerimg_at 'fetch'" -l quiet -d 'Errors only on standard error'
complete -c deerimg -n "__deerimg_at 'fetch'" -l timeout -x -d 'Seconds to wait for an answer'
complete -c deerimg -n "__deerimg_at 'fetch'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'gallery'" -l last -d 'The images of the last run (generate or edit)'
complete -c deerimg -n "__deerimg_at 'gallery'" -l dir -r -F -d 'The images of a folder (not its subfolders)'
complete -c deerimg -n "__deerimg_at 'gallery'" -l since -x -d 'The images of history entries since a date (YYYY-MM-DD), a time (ISO 8601) or a span ago (3d, 12h, 2w)'
complete -c deerimg -n "__deerimg_at 'gallery'" -l search -x -d 'The images of history entries whose prompt, model or files contain TEXT'
complete -c deerimg -n "__deerimg_at 'gallery'" -s o -l output -r -F -d 'Where the page goes (a file, or a folder for its gallery.html)'
complete -c deerimg -n "__deerimg_at 'gallery'" -l open -d 'Open the page with the system\'s viewer'
complete -c deerimg -n "__deerimg_at 'gallery'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'gallery'" -F
complete -c deerimg -n "__deerimg_at 'models'" -l all -d 'Every model the API serves, not only image models'
complete -c deerimg -n "__deerimg_at 'models'" -l search -x -d 'Only models whose id or owner contains every word of TEXT (any case)'
complete -c deerimg -n "__deerimg_at 'models'" -l family -x -a 'gpt-image dall-e seedream seededit gemini flux-kontext flux replicate midjourney kling generic' -d 'Only models of the families whose name holds NAME (gpt-image, seedream, seededit, dall-e, gemini, flux, flux-kontext, replicate, midjourney, kling, generic: those deerimg\'s table does not know)'
complete -c deerimg -n "__deerimg_at 'models'" -l json -d 'The API\'s model objects, each with its "family", as one JSON array'
complete -c deerimg -n "__deerimg_at 'models'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'prices'" -s m -l model -x -a '(__deerimg_model_ids)' -d 'Only the row in force for this model id'
complete -c deerimg -n "__deerimg_at 'prices'" -l json -d 'The rows as one JSON array on stdout'
complete -c deerimg -n "__deerimg_at 'prices'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'completion'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'completion' 0" -a 'bash zsh fish'
complete -c deerimg -n "__deerimg_at 'config' 0" -a 'set' -d 'Save a setting in config.toml (mode 0600), after checking its value'
complete -c deerimg -n "__deerimg_at 'config' 0" -a 'get' -d 'Print the value deerimg uses for a setting: environment, else config file, else default'
complete -c deerimg -n "__deerimg_at 'config' 0" -a 'unset' -d 'Remove a setting from config.toml, so its default applies again'
complete -c deerimg -n "__deerimg_at 'config' 0" -a 'list' -d 'Show every setting, its value and where it comes from (environment, config file, default)'
complete -c deerimg -n "__deerimg_at 'config' 0" -a 'path' -d 'Print the path of config.toml (set DEERIMG_CONFIG_DIR to move its folder)'
complete -c deerimg -n "__deerimg_at 'config'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'config set'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'config set' 0" -a 'api-key base-url model size quality format output-dir jobs timeout retries history max-cost retry-timeouts preview'
complete -c deerimg -n "__deerimg_at 'config set' 1" -a '(__deerimg_config_value)'
complete -c deerimg -n "__deerimg_at 'config get'" -l reveal -d 'Print the API key unmasked'
complete -c deerimg -n "__deerimg_at 'config get'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'config get' 0" -a 'api-key base-url model size quality format output-dir jobs timeout retries history max-cost retry-timeouts preview'
complete -c deerimg -n "__deerimg_at 'config unset'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'config unset' 0" -a 'api-key base-url model size quality format output-dir jobs timeout retries history max-cost retry-timeouts preview'
complete -c deerimg -n "__deerimg_at 'config list'" -l json -d 'One JSON object: key → value, source, env_var'
complete -c deerimg -n "__deerimg_at 'config list'" -s h -l help -d 'Show this message and exit'
complete -c deerimg -n "__deerimg_at 'config path'" -s h -l help -d 'Show this message and exit'
