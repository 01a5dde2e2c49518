"""The residual GAN of synth (`resgan-g` / `resgan-d`, Sources/Synth/GAN) in PyTorch, with the same
module names, so state dicts interchange (synth's tests load synth checkpoints into these modules and
compare outputs). Used by gan_step_torch.py for the side-by-side training-step timing."""
import torch, torch.nn as nn, torch.nn.functional as F

SN = nn.utils.spectral_norm

def up(x):
    return F.interpolate(x, scale_factor=2, mode='nearest')

class GenBN(nn.Module):
    """Conditional batch norm (bn affine=False, per-class gain and bias tables) or plain batch norm."""
    def __init__(s, c, classes):
        super().__init__()
        s.conditional = classes is not None
        if s.conditional:
            s.bn = nn.BatchNorm2d(c, affine=False)
            s.gain = nn.Embedding(classes, c); s.bias = nn.Embedding(classes, c)
            nn.init.ones_(s.gain.weight); nn.init.zeros_(s.bias.weight)
        else:
            s.bn = nn.BatchNorm2d(c)
    def forward(s, x, y):
        h = s.bn(x)
        if s.conditional:
            h = h * s.gain(y)[:, :, None, None] + s.bias(y)[:, :, None, None]
        return h

class GBlock(nn.Module):
    def __init__(s, i, o, classes, block):
        super().__init__()
        s.block = block
        s.b1 = GenBN(i, classes); s.c1 = nn.Conv2d(i, o, 3, 1, 1)
        s.b2 = GenBN(o, classes); s.c2 = nn.Conv2d(o, o, 3, 1, 1)
        if block == 'add':
            s.c_sc = nn.Conv2d(i, o, 1) if i != o else None
        else:
            s.c_sc = nn.Conv2d(o + i, o, 1)
    def forward(s, x, y):
        h = s.c2(F.relu(s.b2(s.c1(up(F.relu(s.b1(x, y)))), y)))
        if s.block == 'add':
            return h + up(s.c_sc(x) if s.c_sc is not None else x)
        return s.c_sc(torch.cat([h, up(x)], 1))

class Generator(nn.Module):
    def __init__(s, channels=1, side=28, classes=10, conditional=True, block='concat', z_dim=128, width=32):
        super().__init__()
        s.w, s.base = width, side // 4
        k = classes if conditional else None
        s.l1 = nn.Linear(z_dim, 4 * width * s.base * s.base)
        s.block1 = GBlock(4 * width, 2 * width, k, block)
        s.block2 = GBlock(2 * width, width, k, block)
        s.b_out = nn.BatchNorm2d(width)
        s.c_out = nn.Conv2d(width, channels, 3, 1, 1)
    def forward(s, z, y):
        h = s.l1(z).view(z.shape[0], 4 * s.w, s.base, s.base)
        h = s.block2(s.block1(h, y), y)
        return torch.tanh(s.c_out(F.relu(s.b_out(h))))

class DBlock(nn.Module):
    def __init__(s, i, o, first, down, block):
        super().__init__()
        s.first, s.down, s.block = first, down, block
        s.c1 = SN(nn.Conv2d(i, o, 3, 1, 1)); s.c2 = SN(nn.Conv2d(o, o, 3, 1, 1))
        if block == 'add':
            s.c_sc = SN(nn.Conv2d(i, o, 1)) if (i != o or down) else None
        else:
            s.c_sc = SN(nn.Conv2d(o + i, o, 1))
    def forward(s, x):
        h = s.c2(F.relu(s.c1(x if s.first else F.relu(x))))
        if s.down:
            h = F.avg_pool2d(h, 2)
        sc = F.avg_pool2d(x, 2) if s.down else x
        if s.block == 'add':
            return h + (s.c_sc(sc) if s.c_sc is not None else sc)
        return s.c_sc(torch.cat([h, sc], 1))

class Discriminator(nn.Module):
    def __init__(s, channels=1, classes=10, conditional=True, block='concat', width=32):
        super().__init__()
        s.block1 = DBlock(channels, width, True, True, block)
        s.block2 = DBlock(width, 2 * width, False, True, block)
        s.block3 = DBlock(2 * width, 2 * width, False, False, block)
        s.l_out = SN(nn.Linear(2 * width, 1))
        s.embed = SN(nn.Embedding(classes, 2 * width)) if conditional else None
    def forward(s, x, y):
        h = F.relu(s.block3(s.block2(s.block1(x)))).sum([2, 3])
        out = s.l_out(h)
        if s.embed is not None:
            out = out + (s.embed(y) * h).sum(1, keepdim=True)
        return out
