# The shell tmuxagent starts for agents: bash --noprofile --rcfile THIS -i
#
# Predictable for a program that types into it: no history expansion ('!'
# stays '!'), no continuation prompt, no pagers that would swallow the next
# command, no history file, and before every prompt an invisible marker
# (an OSC sequence, which terminals ignore):
#
#     ESC ] 6973;tmuxagent;TOKEN;STATUS;CWD BEL
#
# with the exit status of the last command and the working directory:
# 'tmuxagent run' and 'wait --prompt' end on it and read both from it.
#
# TOKEN is the session's secret (tmuxagent start makes it, keeps it in the
# session's meta.json, and hands it over as TMUXAGENT_PROMPT_TOKEN). It moves
# at once into a shell variable that is not exported, and the environment
# variable is unset: commands run here never see it, so their output cannot
# forge a marker that tmuxagent believes. It is never traced (set -x).
# CWD is percent-encoded byte by byte (every byte but printable ASCII, and
# '%' itself, as %XX), so that no directory name can end or break the marker.
# Without a token (this file sourced by hand) the marker is the old
# 'ESC ] 6973;tmuxagent;STATUS;CWD BEL', which tmuxagent no longer trusts for
# sessions that have a token.
#
# The prompt must stay cheap: the marker is made with builtins only (no fork),
# and a directory of printable ASCII other than '%' is printed as it is.
set +H
shopt -s checkwinsize
unset HISTFILE
PS1='\w $ '  # '$' even for root: one prompt to wait for
PS2=''
export PAGER=cat GIT_PAGER=cat MANPAGER=cat SYSTEMD_PAGER=cat AWS_PAGER='' PSQL_PAGER=cat
__tmuxagent_token=${TMUXAGENT_PROMPT_TOKEN-${__tmuxagent_token-}}
unset TMUXAGENT_PROMPT_TOKEN
export -n __tmuxagent_token  # even if the caller's environment had this name
__tmuxagent_prompt() {
    local status=$? flags=$- LC_ALL=C dir=${PWD-} cwd=${PWD-} i byte code
    [[ $flags != *x* ]] || set +x
    if [[ -z ${__tmuxagent_token-} ]]; then
        printf '\033]6973;tmuxagent;%s;%s\007' "$status" "$cwd"
    else
        if [[ $cwd == *[!\ -\$\&-~]* ]]; then  # a byte other than printable ASCII, or '%'
            cwd=
            for ((i = 0; i < ${#dir}; i++)); do
                byte=${dir:i:1}
                if [[ $byte == [\ -\$\&-~] ]]; then
                    cwd+=$byte
                else
                    printf -v code %d "'$byte"
                    printf -v byte %%%02X "$((code & 255))"  # & 255: musl gives 0xDF80+
                    cwd+=$byte
                fi
            done
        fi
        printf '\033]6973;tmuxagent;%s;%s;%s\007' "$__tmuxagent_token" "$status" "$cwd"
    fi
    [[ $flags != *x* ]] || set -x
}
PROMPT_COMMAND=__tmuxagent_prompt
