#!/usr/bin/env python3
# Kill -> deregistered and kill -> replacement registered, 7 runs against a real etcd and dockerd.
# Needs: .build/release/hecd (swift build -c release), hecd-demo:1 (Deploy/build-demo-image.sh), etcd, etcdctl.
import subprocess, time, os, tempfile, threading, json, statistics, shutil
d=tempfile.mkdtemp(); port=24790
etcd=subprocess.Popen(["etcd","--name","x","--data-dir",d+"/e","--listen-client-urls",f"http://127.0.0.1:{port}","--advertise-client-urls",f"http://127.0.0.1:{port}","--listen-peer-urls","http://127.0.0.1:24791","--initial-advertise-peer-urls","http://127.0.0.1:24791","--initial-cluster","x=http://127.0.0.1:24791"],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
time.sleep(1.5)
os.makedirs(d+"/m")
open(d+"/m/web.yaml","w").write("name: web\nimage: hecd-demo:1\nreplicas: 3\nport: 80\nstop_timeout: 2\nregister: {prefix: /app/servers}\n")
agent=subprocess.Popen(["/work/main/.build/release/hecd","agent","--manifests",d+"/m","--etcd",f"http://127.0.0.1:{port}","--host-ip","127.0.0.1","--agent-id","measure","--backoff-initial","0"],stdout=open(d+"/agent.log","w"),stderr=subprocess.STDOUT)
env=dict(os.environ,ETCDCTL_API="3")
w=subprocess.Popen(["etcdctl","--endpoints",f"127.0.0.1:{port}","watch","--prefix","/app/servers"],stdout=subprocess.PIPE,text=True,env=env)
events=[]
def reader():
    while True:
        l=w.stdout.readline()
        if not l: return
        events.append((time.monotonic(),l.strip()))
threading.Thread(target=reader,daemon=True).start()
def keys():
    out=subprocess.run(["etcdctl","--endpoints",f"127.0.0.1:{port}","get","--prefix","/app/servers","--keys-only"],capture_output=True,text=True,env=env).stdout.split()
    return out
for _ in range(100):
    if len(keys())==3: break
    time.sleep(0.1)
time.sleep(2)
dereg=[];repl=[]
for run in range(7):
    ids=subprocess.run(["docker","ps","-q","--filter","label=io.hecd.agent=measure"],capture_output=True,text=True).stdout.split()
    name=subprocess.run(["docker","inspect","-f","{{.Name}}",ids[0]],capture_output=True,text=True).stdout.strip().lstrip("/")
    before=set(keys()); n=len(events)
    t0=time.monotonic(); subprocess.run(["docker","kill",ids[0]],capture_output=True)
    td=tr=None
    end=time.monotonic()+10
    while time.monotonic()<end and (td is None or tr is None):
        for t,l in events[n:]:
            if td is None and l=="DELETE": pass
        # parse pairs: lines alternate op,key,value
        ev=events[n:]
        for i,(t,l) in enumerate(ev):
            if l=="DELETE" and i+1<len(ev) and ev[i+1][1]==f"/app/servers/{name}" and td is None: td=t-t0
            if l=="PUT" and i+1<len(ev) and ev[i+1][1] not in before and ev[i+1][1].startswith("/app/servers/") and tr is None: tr=t-t0
        time.sleep(0.005)
    dereg.append(td); repl.append(tr); time.sleep(2)
print("kill->deregistered ms:", [round(x*1000) if x else None for x in dereg], "median", round(statistics.median([x for x in dereg if x])*1000))
print("kill->replacement registered ms:", [round(x*1000) if x else None for x in repl], "median", round(statistics.median([x for x in repl if x])*1000))
agent.terminate(); agent.wait(); w.kill(); etcd.terminate(); etcd.wait()
subprocess.run("docker rm -f $(docker ps -aq --filter label=io.hecd.agent=measure) >/dev/null 2>&1",shell=True)
shutil.rmtree(d)
