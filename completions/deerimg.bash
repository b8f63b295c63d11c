# bash completion for deerimg                                      -*- shell-script -*-
# Generated from the Typer app by `python -m tools.gen`; do not edit.
# Copy to ~/.local/share/bash-completion/completions/deerimg, or `source` it from ~/.bashrc.
# Static: pressing TAB never starts Python. Model ids come from the cache `deerimg models` keeps,
# else from deerimg's family table.

# The image-model ids of the last `deerimg models` (catalog.cache_path()), else those deerimg's
# family table knows (families.py).
__deerimg_model_ids() {
    local file=""
    if [[ -n ${DEERIMG_CONFIG_DIR-} ]]; then
        file=$DEERIMG_CONFIG_DIR/cache/models.txt
    else
        for file in "${XDG_CACHE_HOME:-$HOME/.cache}/deerimg/models.txt" \
            "$HOME/Library/Caches/deerimg/models.txt"; do
            [[ -r $file ]] && break
        done
    fi
    if [[ -r $file && -s $file ]]; then
        printf '%s\n' "$(<"$file")"
    else
        printf '%s\n' gpt-image-2 gpt-image-2.5-sunburst gpt-image-2.5-flare gpt-image-2.6-sunburst gpt-image-2.6-flare gpt-image-1 gpt-image-1.5 gpt-image-1-mini chatgpt-image-latest dall-e-3 dall-e-2 doubao-seedream-3-0-t2i-250415 doubao-seedream-4-0-250828 doubao-seedream-4-5-251128 doubao-seedream-5-0-260128 bytedance-seedEdit-3.0-i2i doubao-seededit-3-0-i2i-250628 gemini-3.1-flash-image-preview gemini-3-pro-image-preview gemini-2.5-flash-image flux-kontext-pro flux-kontext-max flux-pro-1.1 flux-pro-1.1-ultra flux-pro flux-dev black-forest-labs/flux-kontext-pro black-forest-labs/flux-2-pro black-forest-labs/flux-schnell stability-ai/stable-diffusion-3.5-large midjourney niji-journey kling-v2-1 kling-v2 kling-v1-5 kling-v1
    fi
}

# Does option $2 of command "$1" take a value?
_deerimg_takes_value() {
    case "$1/$2" in
        "generate/-m" | "generate/--model" | "generate/-s" | "generate/--size" | \
            "generate/--aspect" | "generate/--resolution" | "generate/-i" | "generate/--image" | \
            "generate/--upscale" | "generate/-q" | "generate/--quality" | "generate/-n" | \
            "generate/--count" | "generate/--format" | "generate/--compression" | \
            "generate/--background" | "generate/--moderation" | "generate/--complexity" | \
            "generate/--frames" | "generate/--frame-duration" | "generate/--style" | \
            "generate/--response-format" | "generate/--user" | "generate/-p" | "generate/--param" | \
            "generate/-o" | "generate/--output" | "generate/-d" | "generate/--output-dir" | \
            "generate/-f" | "generate/--file" | "generate/-j" | "generate/--jobs" | \
            "generate/--max-jobs" | "generate/--max-cost" | "generate/--partial-images" | \
            "generate/--retries" | "generate/--timeout" | "edit/--mask" | "edit/--markup" | \
            "edit/--input-fidelity" | "edit/-m" | "edit/--model" | "edit/-s" | "edit/--size" | \
            "edit/--aspect" | "edit/--resolution" | "edit/-q" | "edit/--quality" | "edit/-n" | \
            "edit/--count" | "edit/--format" | "edit/--compression" | "edit/--background" | \
            "edit/--moderation" | "edit/--complexity" | "edit/--frames" | "edit/--frame-duration" | \
            "edit/--response-format" | "edit/--user" | "edit/-p" | "edit/--param" | "edit/-o" | \
            "edit/--output" | "edit/-d" | "edit/--output-dir" | "edit/-f" | "edit/--file" | \
            "edit/-j" | "edit/--jobs" | "edit/--max-jobs" | "edit/--max-cost" | \
            "edit/--partial-images" | "edit/--retries" | "edit/--timeout" | "history/-n" | \
            "history/--limit" | "history/--search" | "history/--since" | "fetch/-o" | \
            "fetch/--output" | "fetch/-m" | "fetch/--model" | "fetch/--timeout" | "gallery/--dir" | \
            "gallery/--since" | "gallery/--search" | "gallery/-o" | "gallery/--output" | \
            "models/--search" | "models/--family" | "prices/-m" | "prices/--model") return 0 ;;
    esac
    return 1
}

# Sets the caller's `kind` for the value of option $2 of command "$1".
_deerimg_option_kind() {
    case "$1/$2" in
        "generate/-m" | "generate/--model" | "edit/-m" | "edit/--model" | "fetch/-m" | \
            "fetch/--model" | "prices/-m" | "prices/--model") kind="@models" ;;
        "generate/-s" | "generate/--size" | "generate/--aspect" | "generate/--upscale" | \
            "generate/-n" | "generate/--count" | "generate/--compression" | "generate/--frames" | \
            "generate/--frame-duration" | "generate/--user" | "generate/-p" | "generate/--param" | \
            "generate/-j" | "generate/--jobs" | "generate/--max-jobs" | "generate/--max-cost" | \
            "generate/--partial-images" | "generate/--retries" | "generate/--timeout" | "edit/-s" | \
            "edit/--size" | "edit/--aspect" | "edit/-n" | "edit/--count" | "edit/--compression" | \
            "edit/--frames" | "edit/--frame-duration" | "edit/--user" | "edit/-p" | \
            "edit/--param" | "edit/-j" | "edit/--jobs" | "edit/--max-jobs" | "edit/--max-cost" | \
            "edit/--partial-images" | "edit/--retries" | "edit/--timeout" | "history/-n" | \
            "history/--limit" | "history/--search" | "history/--since" | "fetch/--timeout" | \
            "gallery/--since" | "gallery/--search" | "models/--search") kind="@none" ;;
        "generate/--resolution" | "edit/--resolution") kind="512px 1K 2K 3K 4K" ;;
        "generate/-i" | "generate/--image" | "generate/-o" | "generate/--output" | "generate/-f" | \
            "generate/--file" | "edit/--mask" | "edit/--markup" | "edit/-o" | "edit/--output" | \
            "edit/-f" | "edit/--file" | "fetch/-o" | "fetch/--output" | "gallery/--dir" | \
            "gallery/-o" | "gallery/--output") kind="@files" ;;
        "generate/-q" | "generate/--quality" | "edit/-q" | "edit/--quality") kind="auto low medium high xhigh max standard hd" ;;
        "generate/--format" | "edit/--format") kind="png jpeg webp gif svg" ;;
        "generate/--background" | "edit/--background") kind="transparent opaque auto" ;;
        "generate/--moderation" | "edit/--moderation") kind="auto low" ;;
        "generate/--complexity" | "edit/--complexity") kind="low medium high" ;;
        "generate/--style") kind="vivid natural" ;;
        "generate/--response-format" | "edit/--response-format") kind="url b64_json" ;;
        "generate/-d" | "generate/--output-dir" | "edit/-d" | "edit/--output-dir") kind="@dirs" ;;
        "edit/--input-fidelity") kind="high low" ;;
        "models/--family") kind="gpt-image dall-e seedream seededit gemini flux-kontext flux replicate midjourney kling generic" ;;
        *) kind=@none ;;
    esac
}

# Sets the caller's `words` to the options of command "$1".
_deerimg_options() {
    case "$1" in
        "") words="--version --debug -h --help" ;;
        "generate") words="-m --model -s --size --aspect --resolution -i --image --upscale -q --quality -n --count --format --compression --background --moderation --complexity --frames --frame-duration --watermark --style --response-format --user -p --param -o --output -d --output-dir --force --skip-existing --json --quiet --no-metadata --sidecar --no-history -f --file -j --jobs --max-jobs --fail-fast --max-cost --preview --partial-images --open --retries --retry-timeouts --timeout --dry-run -h --help" ;;
        "edit") words="--mask --markup --input-fidelity -m --model -s --size --aspect --resolution -q --quality -n --count --format --compression --background --moderation --complexity --frames --frame-duration --watermark --response-format --user -p --param -o --output -d --output-dir --force --skip-existing --json --quiet --no-metadata --sidecar --no-history -f --file -j --jobs --max-jobs --fail-fast --max-cost --preview --partial-images --open --retries --retry-timeouts --timeout --dry-run -h --help" ;;
        "info" | "config list") words="--json -h --help" ;;
        "history") words="-n --limit --search --since --usage --json -h --help" ;;
        "tasks") words="--all --json -h --help" ;;
        "fetch") words="-o --output -m --model --force --json --quiet --timeout -h --help" ;;
        "gallery") words="--last --dir --since --search -o --output --open -h --help" ;;
        "models") words="--all --search --family --json -h --help" ;;
        "prices") words="-m --model --json -h --help" ;;
        "completion" | "config" | "config set" | "config unset" | "config path") words="-h --help" ;;
        "config get") words="--reveal -h --help" ;;
        *) words="" ;;
    esac
}

# Sets the caller's `subs` to the subcommands of command "$1".
_deerimg_subcommands() {
    case "$1" in
        "") subs="generate edit info history tasks fetch gallery models prices completion config" ;;
        "config") subs="set get unset list path" ;;
        *) subs="" ;;
    esac
}

# Sets the caller's `kind` for argument $2 (from 0) of command "$1"; $3 is its first argument.
_deerimg_argument_kind() {
    case "$1/$2" in
        "edit/"* | "info/"* | "gallery/"*) kind="@files" ;;
        "completion/0") kind="bash zsh fish" ;;
        "config set/0" | "config get/0" | "config unset/0") kind="api-key base-url model size quality format output-dir jobs timeout retries history max-cost retry-timeouts preview" ;;
        "config set/1") __deerimg_config_value "$3" ;;
        *) kind=@none ;;
    esac
}

# Sets the caller's `kind` for the VALUE of `config set KEY VALUE`.
__deerimg_config_value() {
    case $1 in
        model) kind="@models" ;;
        quality) kind="auto low medium high xhigh max standard hd" ;;
        format) kind="png jpeg webp" ;;
        output-dir | output_dir) kind="@dirs" ;;
        history | retry-timeouts | retry_timeouts | preview) kind="true false" ;;
        *) kind=@none ;;
    esac
}

# Sets COMPREPLY from $1 (a word list, @files, @dirs, @models or @none) for the word $2. Words are
# matched here, not by `compgen -W`, which would expand $(...) in a model id from the cache file.
_deerimg_reply() {
    local cur=$2 word
    local -a words=()
    COMPREPLY=()
    case $1 in
        @files | @dirs)
            compopt -o filenames 2>/dev/null
            [[ $1 == @dirs ]] && word=-d || word=-f
            while IFS= read -r word; do
                COMPREPLY+=("$word")
            done < <(compgen "$word" -- "$cur")
            return 0
            ;;
        @models) while IFS= read -r word; do words+=("$word"); done < <(__deerimg_model_ids) ;;
        @none | "") return 0 ;;
        *) read -ra words <<<"$1" ;;
    esac
    for word in "${words[@]}"; do
        [[ $word == "$cur"* ]] && COMPREPLY+=("$word")
    done
    return 0
}

_deerimg() {
    local cur=${COMP_WORDS[COMP_CWORD]} path="" word kind=@none words subs i dashdash=""
    local -a args=()
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ -z $dashdash && $word == -?* ]]; then
            if [[ $word == -- ]]; then
                dashdash=1
            elif [[ $word != *=* ]] && _deerimg_takes_value "$path" "$word"; then
                if [[ ${COMP_WORDS[i + 1]-} == = ]]; then  # --opt=value, split at the "="
                    ((i += 1))
                    ((i == COMP_CWORD)) && cur=""
                fi
                if ((i + 1 >= COMP_CWORD)); then
                    _deerimg_option_kind "$path" "$word"
                    _deerimg_reply "$kind" "$cur"
                    return 0
                fi
                ((i += 1))
            fi
            continue
        fi
        _deerimg_subcommands "$path"
        if [[ ${#args[@]} -eq 0 && " $subs " == *" $word "* ]]; then
            path=${path:+$path }$word
        else
            args+=("$word")
        fi
    done
    if [[ -z $dashdash && $cur == --*=* ]] && _deerimg_takes_value "$path" "${cur%%=*}"; then
        word=${cur%%=*}
        _deerimg_option_kind "$path" "$word"
        _deerimg_reply "$kind" "${cur#*=}"
        COMPREPLY=("${COMPREPLY[@]/#/$word=}")
    elif [[ -z $dashdash && $cur == -* ]]; then
        _deerimg_options "$path"
        _deerimg_reply "$words" "$cur"
    else
        _deerimg_subcommands "$path"
        if [[ -n $subs && ${#args[@]} -eq 0 ]]; then
            _deerimg_reply "$subs" "$cur"
        else
            _deerimg_argument_kind "$path" "${#args[@]}" "${args[0]-}"
            _deerimg_reply "$kind" "$cur"
        fi
    fi
    return 0
}

complete -F _deerimg deerimg
