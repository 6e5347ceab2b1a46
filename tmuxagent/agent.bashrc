# The shell tmuxagent starts for agents: bash --noprofile --rcfile THIS -i
#
# Predictable for a program that types into it: no history expansion ('!'
# stays '!'), no continuation prompt, no pagers that would swallow the next
# command, no history file, and before every prompt an invisible marker
# (an OSC sequence, which terminals ignore) with the exit status of the last
# command and the working directory: 'tmuxagent run' reads both from it.
set +H
shopt -s checkwinsize
unset HISTFILE
PS1='\w $ '  # '$' even for root: one prompt to wait for
PS2=''
export PAGER=cat GIT_PAGER=cat MANPAGER=cat SYSTEMD_PAGER=cat AWS_PAGER='' PSQL_PAGER=cat
__tmuxagent_prompt() {
    local status=$?
    printf '\033]6973;tmuxagent;%s;%s\007' "$status" "$PWD"
}
PROMPT_COMMAND=__tmuxagent_prompt
