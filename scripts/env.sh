# Sourced by scripts/run and scripts/ctl: the FELT_* variables supervisord.conf reads, with defaults.
# Realtime processes listen on FELT_REALTIME_PORT, +1, ...; game servers g1..gM on 5601.. by default.
export FELT_DATA_DIR=${FELT_DATA_DIR:-$PWD/var}
export FELT_FRONTEND_HOST=${FELT_FRONTEND_HOST:-127.0.0.1}
export FELT_FRONTEND_PORT=${FELT_FRONTEND_PORT:-8000}
export FELT_REALTIME_PORT=${FELT_REALTIME_PORT:-8101}
export FELT_REALTIME_PROCS=${FELT_REALTIME_PROCS:-2}
export FELT_GAMESERVER_PROCS=${FELT_GAMESERVER_PROCS:-2}
rt_host=${FELT_PUBLIC_HOST:-127.0.0.1}
if [ -z "${FELT_REALTIME_URLS:-}" ]; then
    FELT_REALTIME_URLS=$(seq -s, -f "http://$rt_host:%g/sockjs" "$FELT_REALTIME_PORT" \
        $((FELT_REALTIME_PORT + FELT_REALTIME_PROCS - 1)))
    export FELT_REALTIME_URLS
fi
# what each realtime process registers as its public URL ({port}: its own)
export FELT_REALTIME_PUBLIC_URL=${FELT_REALTIME_PUBLIC_URL:-http://$rt_host:\{port\}/sockjs}
if [ -z "${FELT_GAMESERVERS:-}" ]; then
    FELT_GAMESERVERS=$(python3 -c "import json,sys; n=int(sys.argv[1]); print(json.dumps({f'g{i}': f'tcp://127.0.0.1:{5600+i}' for i in range(1, n+1)}))" "$FELT_GAMESERVER_PROCS")
    export FELT_GAMESERVERS
fi
FELT_ORIGIN="http://$FELT_FRONTEND_HOST:$FELT_FRONTEND_PORT"
export FELT_ALLOWED_ORIGINS=${FELT_ALLOWED_ORIGINS:-$FELT_ORIGIN,http://localhost:$FELT_FRONTEND_PORT}
mkdir -p "$FELT_DATA_DIR/log"
