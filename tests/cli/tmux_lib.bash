# tests/cli/tmux_lib.bash — drive the shell in a real terminal (tmux), for
# tests that `source` it after lib.sh:
#   tmux_start NAME CMD     a detached 200x60 session running CMD
#   screen                  the screen (and 200 lines of scrollback), joined lines
#   send_line TEXT          type TEXT and Enter (a trailing ';' escaped for tmux)
#   wait_for NAME EREGEX [SECONDS]   a screen line matches, else a failed check
# The session's server is killed on exit. (Not a test itself: no .sh suffix.)
unset TMUX
_TMUX_SOCK="sluice-$(basename "$0" .sh)-$$"
S=main
tm() { tmux -L "$_TMUX_SOCK" "$@"; }
trap 'tm kill-server >/dev/null 2>&1; rm -rf "$T"' EXIT

tmux_start() { S=$1; shift; tm new-session -d -s "$S" -x 200 -y 60 "$@"; }
screen() { tm capture-pane -p -J -S -200 -t "$S" 2>/dev/null | sed -e 's/[[:space:]]*$//' | grep -v '^$'; }
send_line() {
  local t=$1
  tm send-keys -t "$S" -l -- "${t%;}"
  [ "${t%;}" != "$t" ] && tm send-keys -t "$S" '\;'
  tm send-keys -t "$S" Enter
}
wait_for() {
  local name=$1 re=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 10; i++)); do
    if screen | grep -qE -- "$re"; then _ok; return 0; fi
    sleep 0.1
  done
  _bad "$name" "no line matches /$re/; screen ends: $(screen | tail -8)"
  return 1
}
