"""Felt's load generator and benchmarks (issue 7): simulated players over the real stack, and `scripts/bench`.

Modules, one role each:
  hist       mergeable latency histograms (log buckets, ~1 % precision)
  wsclient   a lean SockJS-over-websocket client (asyncio.Protocol), plus an adapter over
             `realtime.client.FeltClient` for xhr-streaming and xhr-polling
  strategy   frames decoded leanly, and a legal move from a view's own `legal` list (alike for all games)
  players    simulated seats and tables of four; the echo-room players of the baseline
  worker     one load process: connects its players, plays, reports JSON lines on stdout
  run        the coordinator: tokens through the frontend, worker processes, progress, results
  procs      starting/stopping/pinning the processes it measures; CPU and RSS from /proc
  bench      the benchmark suite behind `scripts/bench`; rulesbench, report (Markdown, SVG)
  results/   the runs quoted in the README (JSON) and its plot

Loopback only: every URL is checked to be on 127.0.0.0/8 or localhost before anything connects.
"""
