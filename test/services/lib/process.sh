# What every test/services/<name>.sh does with its server process, sourced by each (this folder is
# not one of the services test/run-all.sh starts). The caller sets $state: its state directory,
# where the server's pid is in "$state/pid".

# Whether the server is up.
running() {
  [[ -f "$state/pid" ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null
}

# Ends the server (SIGTERM, up to 10 s to exit, then SIGKILL) and removes its state directory.
stop_server() {
  if running; then
    local pid
    pid="$(cat "$state/pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$state"
}

# A free TCP port on 127.0.0.1 (the OS picks it), so several instances can run at once.
free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
