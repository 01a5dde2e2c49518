#!/usr/bin/env python3
"""Writes the seed corpora of Fuzz/corpus/<target>/ from real files: a slice of Fashion-MNIST
(the Debian package dataset-fashion-mnist), PNGs Pillow writes from it, tars Python's tarfile
writes, safetensors laid out as the format's spec says, and the files synth itself wrote that are
given as arguments (a manifest.json, a shard, a safetensors checkpoint). Run once; the outputs are
committed, and findings are added beside them by hand (scripts/fuzz names them)."""
import gzip, io, json, os, struct, sys, tarfile
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
fmnist = "/usr/share/datasets/fashion-mnist"
extra = sys.argv[1:]  # synth-written files: *.json manifests, *.tar shards, *.safetensors

def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

images = gzip.open(f"{fmnist}/t10k-images-idx3-ubyte.gz").read()
labels = gzip.open(f"{fmnist}/t10k-labels-idx1-ubyte.gz").read()
n = 3
img = struct.pack(">IIII", 0x803, n, 28, 28) + images[16:16 + n * 784]
lab = struct.pack(">II", 0x801, n) + labels[8:8 + n]
put("gzip-idx", "images3.gz", gzip.compress(img, mtime=0))
put("gzip-idx", "labels3.gz", gzip.compress(lab, mtime=0))
put("gzip-idx", "labels3", lab)
put("gzip-idx", "images1-raw", struct.pack(">IIII", 0x803, 1, 4, 4) + bytes(range(16)))
put("gzip-idx", "two-members.gz", gzip.compress(lab[:5], mtime=0) + gzip.compress(lab[5:], mtime=0))

pixels = [images[16 + k * 784:16 + (k + 1) * 784] for k in range(n)]
def png(image, **options):
    out = io.BytesIO(); image.save(out, "PNG", **options); return out.getvalue()
gray = Image.frombytes("L", (28, 28), pixels[0])
small = gray.resize((8, 8))
put("png", "gray28.png", png(gray))
put("png", "gray8.png", png(small))
put("png", "rgb8.png", png(small.convert("RGB")))
put("png", "rgba8.png", png(small.convert("RGBA")))
put("png", "palette8.png", png(small.convert("P")))
put("png", "bits1.png", png(small.convert("1")))
put("png", "gray16.png", png(small.convert("I;16")))

cifar = bytearray()
for k in range(2):
    cifar.append(k)
    for c in range(3):
        cifar += bytes(Image.frombytes("L", (28, 28), pixels[k]).resize((32, 32)).tobytes())
put("cifar", "cifar10-2.bin", bytes(cifar))
put("cifar", "cifar100-1.bin", bytes([3, 41]) + bytes(cifar[1:3073]))

def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata: header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data
put("safetensors", "mixed.safetensors", safetensors({
    "w": ("F32", [2, 2], struct.pack("<4f", 1, -2, 0.5, 3)),
    "h": ("F16", [3], struct.pack("<3e", 1, 2, -0.25)),
    "b": ("BF16", [1], b"\x80\x3f"),
    "i": ("I64", [2], struct.pack("<2q", 7, -9)),
    "j": ("I32", [1], struct.pack("<i", 5)),
    "d": ("F64", [1], struct.pack("<d", 1.5)),
    "e": ("F32", [0, 3], b""),
}, {"format": "pt"}))

def tar(members, fmt=tarfile.USTAR_FORMAT):
    """Members are (name, data) or (name, data, type, linkname). The record padding after the two
    end blocks is cut: it is all zeros, and shorter seeds fuzz faster."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as t:
        for name, data, *kind in members:
            info = tarfile.TarInfo(name); info.size = len(data); info.mtime = 0
            if kind: info.type, info.linkname = kind[0], kind[1]
            t.addfile(info, io.BytesIO(data))
    raw = out.getvalue().rstrip(b"\0")
    return raw + b"\0" * ((512 - len(raw) % 512) % 512 + 1024)
sample = lambda k: [(f"{k:06d}.cls", str(labels[8 + k]).encode()),
                    (f"{k:06d}.png", png(Image.frombytes("L", (28, 28), pixels[k]).resize((8, 8))))]
put("tar", "foreign2.tar", tar(sample(0) + sample(1)))
put("tar", "foreign-pax.tar", tar(sample(2), tarfile.PAX_FORMAT))
put("tar", "hostile-symlink.tar", tar(sample(0) + [("000001.png", b"", tarfile.SYMTYPE, "/etc/passwd")]))
put("tar", "hostile-parent.tar", tar([("../../evil.cls", b"1")] + sample(1)))
put("tar", "hostile-fifo.tar", tar([("000001.png", b"", tarfile.FIFOTYPE, "")]))
put("tar", "foreign-dir.tar", tar([("a/", b"")] + [("a/" + m, d) for m, d in sample(0)]))

record = {"class": 3, "class_name": "Dress", "source": "gan", "confidence": 0.99999994,
          "probs": [5e-05, 0.0, 0.0, 0.99999994, 0.0, 0.0, 0.0, 0.0, 0.0, 1e-08], "seed": "18446744073709551615",
          "slot": 4, "batch": 2}
put("sample-json", "filtered.json", json.dumps(record).encode())
put("sample-json", "plain.json", b'{"class":0,"class_name":"T-shirt/top","source":"real"}')
put("sample-json", "old-seed.json", b'{"class":1,"class_name":"1","source":"cag","seed":42}')

for i, s in enumerate(["fashion-mnist:test@5000", "fashion-mnist:train@~100", "idx:a/images.gz,b/labels",
                       "cifar10:/data/c:test", "cifar100:dir@x/y:train@7", "folder:imgs", "shards:out@12",
                       "fashion-mnist"]):
    put("data-spec", f"spec{i}", s.encode())

for path in extra:
    base = os.path.basename(path)
    target = {"json": "manifest", "tar": "tar", "safetensors": "safetensors"}[base.rsplit(".", 1)[1]]
    put(target, base, open(path, "rb").read())
