"""PyTorch twin of one `synth train-gan` step, for side-by-side timing (same G/D, batch, losses,
optimisers and EMA; Debian's python3-torch on the CPU, 2 threads).
Usage: gan_step_torch.py [steps=60] [batch=64] [block=concat] [width=24]
Prints ms per step over the steps after 10 warm-up steps."""
import sys, os, gzip, time, numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resgan import Generator, Discriminator
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2"))); torch.manual_seed(0)

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 60
B = int(sys.argv[2]) if len(sys.argv) > 2 else 64
block = sys.argv[3] if len(sys.argv) > 3 else 'concat'
width = int(sys.argv[4]) if len(sys.argv) > 4 else 24
warm = 10

def fashion_mnist_train():
    """Fashion-MNIST train where synth reads it: $SYNTH_DATA_DIR (the four files or a
    fashion-mnist folder holding them), else Debian's dataset-fashion-mnist package."""
    root = os.environ.get('SYNTH_DATA_DIR') or '/usr/share/datasets/fashion-mnist'
    if os.path.isdir(os.path.join(root, 'fashion-mnist')): root = os.path.join(root, 'fashion-mnist')
    def read(name, offset):
        path = os.path.join(root, name)
        opener = gzip.open if os.path.exists(path + '.gz') else open
        with opener(path + '.gz' if opener is gzip.open else path, 'rb') as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)
    return read('train-images-idx3-ubyte', 16).reshape(-1, 1, 28, 28), read('train-labels-idx1-ubyte', 8).astype(np.int64)

try:
    Xu, yu = fashion_mnist_train()
    X = torch.tensor(Xu, dtype=torch.float32) / 127.5 - 1; Y = torch.tensor(yu)
except OSError:  # no dataset: random images cost the same
    X = torch.rand(60000, 1, 28, 28) * 2 - 1; Y = torch.randint(0, 10, (60000,))

G = Generator(block=block, width=width); D = Discriminator(block=block, width=width)
E = Generator(block=block, width=width); E.load_state_dict(G.state_dict())
for p in E.parameters(): p.requires_grad_(False)
optG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
optD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
sign = torch.cat([torch.ones(B, 1), -torch.ones(B, 1)])
perm = torch.randperm(len(Y))

def step(t):
    idx = perm[(t * B) % (len(Y) - B):][:B]
    xr, yr = X[idx], Y[idx]
    z = torch.randn(B, 128); yf = torch.randint(0, 10, (B,))
    with torch.no_grad():
        xf = G(z, yf)
    scores = D(torch.cat([xr, xf]), torch.cat([yr, yf]))
    loss = F.relu(1 - scores * sign).sum() / B
    optD.zero_grad(); loss.backward(); optD.step()
    z = torch.randn(B, 128); y = torch.randint(0, 10, (B,))
    for p in D.parameters(): p.requires_grad_(False)
    lossG = -D(G(z, y), y).mean()
    optG.zero_grad(); lossG.backward(); optG.step()
    for p in D.parameters(): p.requires_grad_(True)
    d = min(0.999, (1 + t) / (10 + t))
    with torch.no_grad():
        for e, p in zip(E.parameters(), G.parameters()):
            e.mul_(d).add_(p, alpha=1 - d)

G.train(); D.train()
for t in range(warm): step(t)
t0 = time.time()
for t in range(warm, warm + steps): step(t)
dt = time.time() - t0
print(f"torch {torch.__version__}: {dt / steps * 1000:.1f} ms/step ({steps} steps after {warm} warm-up, batch {B}, {block}, width {width}, {torch.get_num_threads()} threads)")
