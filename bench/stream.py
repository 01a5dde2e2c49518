"""The bars of `synth build --out -` (BENCHMARKS.md, "Streaming a build").

    python bench/stream.py SYNTH DIR [BUILD FLAGS...]

1. Reads `pipe:SYNTH build FLAGS --out -` with webdataset, timing the reader (samples/s from the
   first request to the last sample), and compares every key, label and image (decoded pixels)
   with those of DIR, the directory build with the same flags (built beforehand).
2. Starts the same stream with --endless in an empty directory, reads 10 samples, closes the
   pipe and times how long synth takes to exit, its exit status and what it left in the directory.
"""
import glob, hashlib, io, json, os, shlex, subprocess, sys, tarfile, tempfile, time

import webdataset as wds
from PIL import Image

synth, directory, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
build = " ".join(shlex.quote(a) for a in [synth, "build"] + flags)


def pixels(png):
    return hashlib.sha256(Image.open(io.BytesIO(png)).tobytes()).hexdigest()


expected = []
m = json.load(open(os.path.join(directory, "manifest.json")))
for shard in m["shardlist"]:
    for s in wds.WebDataset(os.path.join(directory, shard["url"]), shardshuffle=False):
        expected.append((s["__key__"], int(s["cls"]), pixels(s["png"])))

start = time.time()
got = []
for s in wds.WebDataset("pipe:" + build + " --out -", shardshuffle=False):
    got.append((s["__key__"], int(s["cls"]), s["png"]))
seconds = time.time() - start
got = [(k, c, pixels(p)) for k, c, p in got]
print(json.dumps({"samples": len(got), "directory_samples": len(expected), "equal": got == expected,
                  "keys_equal": [g[0] for g in got] == [e[0] for e in expected],
                  "labels_equal": [g[1] for g in got] == [e[1] for e in expected],
                  "seconds": round(seconds, 2), "samples_per_second": round(len(got) / seconds, 1)}))

cwd = tempfile.mkdtemp(prefix="synth-stream-close-")
p = subprocess.Popen(build + " --endless --out -", shell=True, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
names = []
for member in tarfile.open(fileobj=p.stdout, mode="r|"):
    names.append(member.name)
    if len(names) == 30:
        break
p.stdout.close()
closed = time.time()
status = p.wait(timeout=60)
print(json.dumps({"read": len(names) // 3, "exit_status": status, "seconds_to_exit": round(time.time() - closed, 3),
                  "files_left": os.listdir(cwd), "stderr_tail": p.stderr.read().decode().strip().splitlines()[-1:]}))
os.rmdir(cwd)
