# Sourced by scripts/run and scripts/ctl: the FELT_* variables supervisord.conf reads, with defaults.
# Realtime processes listen on FELT_REALTIME_PORT, +1, ...; game servers g1..gM on 5601.. by default.
export FELT_DATA_DIR=${FELT_DATA_DIR:-$PWD/var}
export FELT_FRONTEND_HOST=${FELT_FRONTEND_HOST:-127.0.0.1}
# haproxy in front (scripts/run --haproxy, or FELT_HAPROXY=true) takes the public port, FELT_PUBLIC_PORT
# (8000); the frontend then listens behind it, on 8090
export FELT_HAPROXY=${FELT_HAPROXY:-false}
if [ "$FELT_HAPROXY" = true ]; then
    export FELT_PUBLIC_PORT=${FELT_PUBLIC_PORT:-8000}
    export FELT_FRONTEND_PORT=${FELT_FRONTEND_PORT:-8090}
else
    export FELT_FRONTEND_PORT=${FELT_FRONTEND_PORT:-8000}
    export FELT_PUBLIC_PORT=$FELT_FRONTEND_PORT
fi
FELT_ORIGIN="http://$FELT_FRONTEND_HOST:$FELT_PUBLIC_PORT"
if [ "$FELT_HAPROXY" = true ]; then
    # browsers get haproxy's SockJS URL; the tiers believe the client address haproxy (loopback) names
    export FELT_REALTIME_PROXY_URL=${FELT_REALTIME_PROXY_URL:-$FELT_ORIGIN/sockjs}
    export FELT_TRUSTED_PROXIES=${FELT_TRUSTED_PROXIES:-127.0.0.1}
    export FELT_REALTIME_URLS=${FELT_REALTIME_URLS:-$FELT_ORIGIN/sockjs}
    export FELT_HAPROXY_PROGRAM=$PWD/supervisord-haproxy.conf  # supervisord.conf includes it
else
    export FELT_HAPROXY_PROGRAM=$PWD/supervisord-haproxy.conf.off  # no such file: no haproxy program
fi
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
export FELT_ALLOWED_ORIGINS=${FELT_ALLOWED_ORIGINS:-$FELT_ORIGIN,http://localhost:$FELT_FRONTEND_PORT}
mkdir -p "$FELT_DATA_DIR/log"
