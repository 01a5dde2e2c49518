#!/usr/bin/env python3
"""The Python side of the pack benchmark: Fashion-MNIST train (60k) into WebDataset shards with
webdataset's ShardWriter and PIL, the same images, members (cls, json, png) and shard size as
`synth pack --data fashion-mnist:train --shard-size 1000`.

Usage: pack_python.py OUT_DIR [--data-dir /usr/share/datasets/fashion-mnist] [--shard-size 1000]
"""
import argparse, gzip, io, json, os, struct, time

import numpy as np
from PIL import Image
import webdataset as wds

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--data-dir", default=os.environ.get("SYNTH_DATA_DIR", "/usr/share/datasets/fashion-mnist"))
    p.add_argument("--shard-size", type=int, default=1000)
    a = p.parse_args()
    start = time.time()
    images = idx(os.path.join(a.data_dir, "train-images-idx3-ubyte.gz"))
    labels = idx(os.path.join(a.data_dir, "train-labels-idx1-ubyte.gz"))
    os.makedirs(a.out, exist_ok=True)
    pattern = os.path.join(a.out, "fm-%06d.tar")
    with wds.ShardWriter(pattern, maxcount=a.shard_size, verbose=0) as sink:
        for i in range(len(labels)):
            buf = io.BytesIO()
            Image.fromarray(images[i], mode="L").save(buf, format="PNG")
            c = int(labels[i])
            sink.write({
                "__key__": "%09d" % i,
                "cls": str(c).encode(),
                "json": json.dumps({"class": c, "class_name": CLASSES[c], "source": "pack:fashion-mnist:train"},
                                   sort_keys=True, separators=(",", ":")).encode(),
                "png": buf.getvalue(),
            })
    print("python webdataset+PIL: %d samples in %.2f s" % (len(labels), time.time() - start))


if __name__ == "__main__":
    main()
