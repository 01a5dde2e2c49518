"""Where a profiled synth run spends its time, op by op, forward and backward.

Reads `perf script -F comm,tid,ip,sym` of a `perf record -e cpu-clock --call-graph dwarf` run
(cpu-clock: the machine's hardware counters are not available to perf here), keeps the samples
whose stack holds FILTER (a mangled Swift name, e.g. GANTrainerC9trainStep), and prints a markdown
row per engine op: % of the kept samples in its forward pass, in its backward pass (under
Tensor.backward), and the three leaf kinds that dominate it; then the leaf kinds overall.
Usage: perf_ops.py SCRIPT.txt FILTER   (BENCHMARKS.md, "Where the time goes", has the commands)"""
import sys, collections
path, filt = sys.argv[1], sys.argv[2]
ops = [('upsampleConv2d','upsampleConv2d'),('interleavePhases','upsampleConv2d'),('upsamplePhaseKernels','upsampleConv2d'),
       ('6conv2d','conv2d'),('convTranspose2d','convTranspose2d'),('batchNorm','batchNorm'),('channelMeanAndVariance','batchNorm'),
       ('6resize','resize (upsample)'),('6concat','concat'),('avgPool2d','avgPool2d'),('maxPool2d','maxPool2d'),
       ('SpectralNormWeight','spectral norm'),('4Adam','Adam'),('6linear','linear'),('crossEntropy','crossEntropy'),
       ('updateEMA','EMA'),('6unary','elementwise'),('6binary','elementwise'),('Kernel','elementwise'),('3sum','reductions'),
       ('embedding','embedding'),('realBatch','data'),('6Tensor','other tensor')]
def leafcat(sym):
    if 'sgemm_kernel' in sym: return 'sgemm kernel'
    if 'copy_' in sym and 'sgemm' in sym or 'sgemm_' in sym and ('copy' in sym): return 'sgemm packing'
    if 'sgemm' in sym or 'beta' in sym.lower(): return 'sgemm other'
    if 'im2col' in sym or 'col2im' in sym or 'sweep' in sym: return 'im2col/col2im'
    if 'ChannelMajor' in sym or 'channelMajor' in sym: return 'layout permute'
    if 'memset' in sym: return 'memset'
    if 'memmove' in sym or 'memcpy' in sym: return 'memmove'
    if 'malloc' in sym or 'cfree' in sym or '_int_free' in sym or 'BufferPool' in sym or 'swift_retain' in sym or 'swift_release' in sym or 'swift_alloc' in sym: return 'alloc/refcount'
    if sym.startswith('ffffffff') or 'page' in sym or 'exc_' in sym: return 'kernel'
    return 'own loops'
samples = []
cur = []
for line in open(path, errors='replace'):
    if not line.strip():
        if cur: samples.append(cur); cur = []
        continue
    if line[0] not in ' \t': continue
    parts = line.strip().split(None, 1)
    cur.append(parts[1] if len(parts) > 1 else '?')
if cur: samples.append(cur)
tot = 0; byop = collections.Counter(); byleaf = collections.Counter(); opleaf = collections.Counter()
for st in samples:
    if not any(filt in s for s in st): continue
    tot += 1
    bwd = any('6TensorC8backward' in s for s in st)
    op = 'other'
    for s in st:
        hit = next((name for key, name in ops if key in s), None)
        if hit: op = hit; break
    leaf = leafcat(st[0])
    k = (op, 'bwd' if bwd else 'fwd')
    byop[k] += 1; byleaf[leaf] += 1; opleaf[(op, 'bwd' if bwd else 'fwd', leaf)] += 1
print('samples', tot)
rows = collections.defaultdict(lambda: [0, 0])
for (op, p), c in byop.items(): rows[op][0 if p == 'fwd' else 1] += c
for op, (f, b) in sorted(rows.items(), key=lambda r: -sum(r[1])):
    leaves = collections.Counter()
    for (o, p, l), c in opleaf.items():
        if o == op: leaves[l] += c
    top = ', '.join(f'{l} {100*c/(f+b):.0f}%' for l, c in leaves.most_common(3))
    print(f'| {op} | {100*f/tot:.1f} | {100*b/tot:.1f} | {top} |')
print()
for l, c in byleaf.most_common(): print(f'{l}: {100*c/tot:.1f}%')
