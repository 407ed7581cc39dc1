#!/usr/bin/env python3
# The machine's own floor for the API benchmark: a byte-echo over loopback TCP, open loop at 1,000
# messages/s, latency from each message's scheduled send time (as bench/api-load.sh measures).
# Usage: bench/loopback-pingpong.py   (docs/benchmarks.md, "At low rates")
import socket, time, threading, os, sys
N=10000; rate=1000
srv=socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,1); srv.bind(('127.0.0.1',5097)); srv.listen(1)
pid=os.fork()
if pid==0:
    c,_=srv.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,1)
    while True:
        d=c.recv(65536)
        if not d: break
        c.sendall(d)
    os._exit(0)
s=socket.create_connection(('127.0.0.1',5097)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,1)
due=[0]*N; lat=[]
def rx():
    got=0; buf=b''
    while got<N:
        buf+=s.recv(65536)
        while len(buf)>=8:
            i=int.from_bytes(buf[:8],'little'); buf=buf[8:]
            lat.append((time.perf_counter_ns()-due[i])/1000); got+=1
t=threading.Thread(target=rx); t.start()
start=time.perf_counter_ns()
for i in range(N):
    d=start+i*1_000_000_000//rate
    while True:
        now=time.perf_counter_ns()
        if now>=d: break
        time.sleep(max(0,(d-now)/1e9))
    due[i]=d; s.sendall(i.to_bytes(8,'little'))
t.join(); s.close(); os.waitpid(pid,0)
lat.sort()
print("loopback ping-pong at %d/s (µs from schedule): "%rate + "  ".join("p%s %.0f"%(p,lat[min(len(lat)-1,int(len(lat)*p/100))]) for p in (50,90,99,99.9)) + "  max %.0f"%lat[-1])
