#!/usr/bin/env python3
"""PyTorch side of `npm run bench` (issue #6): the workbench's networks, batch
and optimisers written in plain PyTorch, timed step by step on the CPU.

Usage:
  /usr/bin/python3 resources/bench/torch_steps.py STEP [--threads N] [--steps S]
      [--warmup W] [--batch B]

STEP is one of
  supernet-fmnist   one supernet training step on the fmnist preset;
  supernet-cifar3   the same on the cifar preset cut to its first 3 searchable
                    layers (same stem, first block and head, 32x32x3 input);
  generator-fmnist  one generator training step against the frozen fmnist
                    supernet;
  score-fmnist      scoring one sampled sub-network (inference, batch 256).

Human-readable lines go to stderr; stdout gets exactly one JSON line:
  {"name", "imgPerSec", "secondsPerStep", "imagesPerStep", "threads",
   "peakRssMB", "idleRssMB", "torch", "params"}
Exit codes: 0 done, 2 bad arguments, 3 PyTorch missing.

The networks mirror main/engine (nn/supernet.ts, nn/unifiedBlock.ts,
nn/fixedParts.ts, nn/generator.ts) layer for layer, so `params` equals the
trainable-parameter count of the TypeScript network of the same preset; the
test test/torchSteps.test.ts checks that equality. Inputs are random tensors:
data loading is timed on neither side.
"""
import argparse
import json
import math
import os
import random
import resource
import sys
import time

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as missing:
    sys.stderr.write(
        f'torch_steps.py: PyTorch is not importable by {sys.executable} ({missing}); '
        'install it with `apt-get install python3-torch` (Debian) and run the script '
        'with /usr/bin/python3\n')
    sys.exit(3)

SEED = 1
CLASSES = 10

# The search space (main/engine/space/types.ts): six sub-blocks per unified
# block, each a depthwise 3x3 / 5x5 / 7x7 or skipped; alpha's op axis is
# (3x3, 5x5, 7x7, skip). An architecture here is, per layer, six kernel sizes
# with 0 for a skipped sub-block.
MAX_EXPANSION = 6
MIN_EXPANSION = 2
KERNELS = (3, 5, 7)
OP_COUNT = len(KERNELS) + 1
SKIP_INDEX = 3
SKIP = 0

# PyTorch's BatchNorm2d defaults, which the engine copies.
BN_EPS = 1e-5
BN_MOMENTUM = 0.1

# Supernet training (main/engine/pipeline/defaults.ts, fmnist).
SGD_LR = 0.1
SGD_MOMENTUM = 0.9
WEIGHT_DECAY = 4e-5
LABEL_SMOOTHING = 0.1

# Generator training (defaults.ts and train/generatorTrainer.ts): lambda of the
# relative cost penalty, overshoot weight, Adam, Gumbel temperature of epoch 0.
TARGETS_PER_STEP = 8
VALIDATION_BATCH = 32
COST_LAMBDA = 10.0
OVERSHOOT_WEIGHT = 1.2
ADAM_LR = 1e-3
ADAM_BETAS = (0.5, 0.999)
TAU0 = 5.0
GENERATOR_WIDTH = 32
TARGET_CHANNELS = 10
MASKED_LOGIT = -1e9

STEPS = ('supernet-fmnist', 'supernet-cifar3', 'generator-fmnist', 'score-fmnist')


def repeat(c_out, stride, count):
    """`count` copies of one searchable layer (c_out, stride)."""
    return [(c_out, stride)] * count


IMAGENET_LAYERS = (repeat(32, 2, 1) + repeat(32, 1, 1) + repeat(40, 2, 1) + repeat(40, 1, 3)
                   + repeat(80, 2, 1) + repeat(80, 1, 3) + repeat(96, 1, 4)
                   + repeat(192, 2, 1) + repeat(192, 1, 3) + repeat(320, 1, 1))

# The presets of main/engine/space/presets.ts.
PRESETS = {
    'fmnist': {
        'input_size': 28, 'input_channels': 1, 'stem_channels': 16, 'stem_stride': 2,
        'first_channels': 8, 'head_channels': 128, 'constraint': (0.85, 1.5),
        'layers': [(16, 2), (16, 1), (24, 1), (32, 2), (32, 1)],
    },
    'cifar': {
        'input_size': 32, 'input_channels': 3, 'stem_channels': 32, 'stem_stride': 1,
        'first_channels': 16, 'head_channels': 1280, 'constraint': (80.0, 120.0),
        'layers': [(32, 1)] + IMAGENET_LAYERS[1:],
    },
}


def get_preset(name, layer_count=None):
    """A copy of a preset, optionally cut to its first `layer_count` searchable layers."""
    preset = dict(PRESETS[name])
    if layer_count is not None:
        preset['layers'] = preset['layers'][:layer_count]
    return preset


def layer_shapes(preset):
    """Per searchable layer: c_in, c_out, stride, input and output size, residual."""
    shapes = []
    c_in = preset['first_channels']
    size = math.ceil(preset['input_size'] / preset['stem_stride'])
    for c_out, stride in preset['layers']:
        out_size = math.ceil(size / stride)
        shapes.append({'c_in': c_in, 'c_out': c_out, 'stride': stride, 'in_size': size,
                       'out_size': out_size, 'residual': stride == 1 and c_in == c_out})
        c_in, size = c_out, out_size
    return shapes


def he_normal(shape, fan_out):
    """The engine's conv initialisation: N(0, 2 / fan_out)."""
    return nn.Parameter(torch.randn(shape) * math.sqrt(2.0 / fan_out))


def batch_norm(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


def relu6(x):
    return F.relu6(x)


def grouped_batch_norm(x, bns, training):
    """BN of x whose channels are the concatenation of `bns`' channels.

    With one BN this is the module's own call. With several, their parameters
    and running statistics are concatenated; F.batch_norm updates the
    concatenated running statistics in place, so they are copied back slice by
    slice (the engine folds each group's statistics into its BNs the same way).
    """
    if len(bns) == 1:
        bn = bns[0]
        return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias,
                            training, BN_MOMENTUM, BN_EPS)

    mean = torch.cat([bn.running_mean for bn in bns])
    var = torch.cat([bn.running_var for bn in bns])
    weight = torch.cat([bn.weight for bn in bns])
    bias = torch.cat([bn.bias for bn in bns])
    y = F.batch_norm(x, mean, var, weight, bias, training, BN_MOMENTUM, BN_EPS)

    if training:
        with torch.no_grad():
            start = 0
            for bn in bns:
                end = start + bn.num_features
                bn.running_mean.copy_(mean[start:end])
                bn.running_var.copy_(var[start:end])
                start = end
    return y


class SubBlock(nn.Module):
    """One of the six channel groups of a unified block: its slice of the 1x1
    expand (c_in -> c_in) with BN, a depthwise conv and BN per kernel size, and
    its rows of the 1x1 projection (c_in -> c_out)."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.expand = he_normal((c_in, c_in, 1, 1), c_in * MAX_EXPANSION)
        self.expand_bn = batch_norm(c_in)
        self.dw = nn.ParameterDict({str(k): he_normal((c_in, 1, k, k), k * k) for k in KERNELS})
        self.dw_bn = nn.ModuleDict({str(k): batch_norm(c_in) for k in KERNELS})
        self.project = he_normal((c_out, c_in, 1, 1), c_out)


class UnifiedBlock(nn.Module):
    """A searchable layer: six sub-blocks and one projection BN per expansion
    rate (shadow BN, chosen by the skip count)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = shape
        self.sub_blocks = nn.ModuleList(
            SubBlock(shape['c_in'], shape['c_out']) for _ in range(MAX_EXPANSION))
        self.project_bns = nn.ModuleList(
            batch_norm(shape['c_out']) for _ in range(MAX_EXPANSION - MIN_EXPANSION + 1))

    def forward_single_path(self, x, kernels):
        """The block for one choice of sub-block ops (six kernel sizes, 0 = skip).

        Kept sub-blocks are grouped by kernel size: each group runs one expand,
        depthwise and projection chain over its concatenated channels, and the
        groups' projections are summed, as UnifiedBlock.forwardSinglePath does.
        """
        stride = self.shape['stride']
        projected = None
        kept = 0
        for k in KERNELS:
            members = [sub for sub, op in zip(self.sub_blocks, kernels) if op == k]
            if not members:
                continue
            kept += len(members)

            expand = torch.cat([m.expand for m in members], 0)
            h = F.conv2d(x, expand)
            h = relu6(grouped_batch_norm(h, [m.expand_bn for m in members], self.training))

            depthwise = torch.cat([m.dw[str(k)] for m in members], 0)
            h = F.conv2d(h, depthwise, stride=stride, padding=k // 2, groups=h.shape[1])
            h = relu6(grouped_batch_norm(h, [m.dw_bn[str(k)] for m in members],
                                         self.training))

            part = F.conv2d(h, torch.cat([m.project for m in members], 1))
            projected = part if projected is None else projected + part

        y = grouped_batch_norm(projected, [self.project_bns[MAX_EXPANSION - kept]],
                               self.training)
        return y + x if self.shape['residual'] else y

    def forward_weighted(self, x, op_weights, sbn_index):
        """Every sub-block the weighted sum of its three depthwise branches (skip
        adds zero), BN on running statistics.

        op_weights: [N, 6, 4], one weighting per image. sbn_index: the
        projection BN (the rounded expected skip count).
        """
        c_in = self.shape['c_in']
        subs = self.sub_blocks
        n = x.shape[0]

        expand = torch.cat([s.expand for s in subs], 0)
        hidden = relu6(grouped_batch_norm(F.conv2d(x, expand), [s.expand_bn for s in subs],
                                          False))

        mixed = None
        for j, k in enumerate(KERNELS):
            depthwise = torch.cat([s.dw[str(k)] for s in subs], 0)
            h = F.conv2d(hidden, depthwise, stride=self.shape['stride'], padding=k // 2,
                         groups=hidden.shape[1])
            h = relu6(grouped_batch_norm(h, [s.dw_bn[str(k)] for s in subs], False))
            # Sub-block i's weight spread over its c_in channels.
            per_channel = op_weights[:, :, j].repeat_interleave(c_in, dim=1)
            term = h * per_channel.view(n, MAX_EXPANSION * c_in, 1, 1)
            mixed = term if mixed is None else mixed + term

        projected = F.conv2d(mixed, torch.cat([s.project for s in subs], 1))
        y = grouped_batch_norm(projected, [self.project_bns[sbn_index]], False)
        return y + x if self.shape['residual'] else y


class Supernet(nn.Module):
    """Stem, first block, one unified block per searchable layer, head.

    Like the engine's supernet: no conv biases, no dropout in the head.
    """

    def __init__(self, preset, classes):
        super().__init__()
        stem_c = preset['stem_channels']
        first_c = preset['first_channels']
        head_c = preset['head_channels']
        shapes = layer_shapes(preset)
        last_c = shapes[-1]['c_out'] if shapes else first_c

        self.stem = nn.Conv2d(preset['input_channels'], stem_c, 3, preset['stem_stride'],
                              padding=1, bias=False)
        self.stem_bn = batch_norm(stem_c)
        self.first_dw = nn.Conv2d(stem_c, stem_c, 3, padding=1, groups=stem_c, bias=False)
        self.first_dw_bn = batch_norm(stem_c)
        self.first_project = nn.Conv2d(stem_c, first_c, 1, bias=False)
        self.first_project_bn = batch_norm(first_c)
        self.blocks = nn.ModuleList(UnifiedBlock(shape) for shape in shapes)
        self.head = nn.Conv2d(last_c, head_c, 1, bias=False)
        self.head_bn = batch_norm(head_c)
        self.classifier = nn.Linear(head_c, classes)
        self.init_like_engine(stem_c, first_c, head_c)

    @torch.no_grad()
    def init_like_engine(self, stem_c, first_c, head_c):
        """The fan-out He normal init of main/engine/nn/fixedParts.ts."""
        self.stem.weight.normal_(0, math.sqrt(2 / (9 * stem_c)))
        self.first_dw.weight.normal_(0, math.sqrt(2 / 9))
        self.first_project.weight.normal_(0, math.sqrt(2 / first_c))
        self.head.weight.normal_(0, math.sqrt(2 / head_c))
        self.classifier.weight.normal_(0, 0.01)
        self.classifier.bias.zero_()

    def stem_and_first_block(self, x):
        h = relu6(self.stem_bn(self.stem(x)))
        h = relu6(self.first_dw_bn(self.first_dw(h)))
        return self.first_project_bn(self.first_project(h))

    def head_and_classifier(self, h):
        h = relu6(self.head_bn(self.head(h)))
        return self.classifier(h.mean((2, 3)))

    def forward_single_path(self, x, arch):
        """Logits of one architecture (per layer, six kernel sizes, 0 = skip)."""
        h = self.stem_and_first_block(x)
        for block, kernels in zip(self.blocks, arch):
            h = block.forward_single_path(h, kernels)
        return self.head_and_classifier(h)

    def forward_weighted(self, x, op_weights, sbn_index):
        """Logits with every sub-block's ops mixed by op_weights [N, L, 6, 4]."""
        h = self.stem_and_first_block(x)
        for l, block in enumerate(self.blocks):
            h = block.forward_weighted(h, op_weights[:, l], sbn_index[l])
        return self.head_and_classifier(h)


class ArchitectureGenerator(nn.Module):
    """G(prior, target) -> alpha [B, L, 6, 4] of main/engine/nn/generator.ts:
    3x3 convs, 32 wide, on maps of alpha's shape (L x 24)."""

    def __init__(self, layer_count):
        super().__init__()
        w = GENERATOR_WIDTH
        self.layer_count = layer_count
        self.target = nn.ModuleList(
            self.conv(TARGET_CHANNELS if i == 0 else w, w) for i in range(3))
        self.prior = nn.ModuleList(self.conv(1 if i == 0 else w, w) for i in range(2))
        self.head = self.conv(w, w)
        self.body = nn.ModuleList(self.conv(w, w) for _ in range(3))
        self.out = nn.Conv2d(w, 1, 3, padding=1, bias=True)
        with torch.no_grad():
            self.out.weight.normal_(0, math.sqrt(1 / (9 * w)))
            self.out.bias.zero_()

        # Skip below the minimum expansion is never allowed: its logit is
        # replaced (not shifted), so no gradient reaches it.
        forbidden = torch.zeros(layer_count, MAX_EXPANSION, OP_COUNT)
        forbidden[:, :MIN_EXPANSION, SKIP_INDEX] = 1
        self.register_buffer('keep', 1 - forbidden)
        self.register_buffer('mask_bias', forbidden * MASKED_LOGIT)

    @staticmethod
    def conv(c_in, c_out):
        conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        with torch.no_grad():
            conv.weight.normal_(0, math.sqrt(2 / (9 * c_in)))
        return conv

    @staticmethod
    def chain(x, convs):
        for conv in convs:
            x = F.relu(conv(x))
        return x

    def forward(self, prior, targets):
        """prior: one-hot [B, L, 24]; targets: normalised to [0, 1], [B]."""
        b, width = targets.shape[0], MAX_EXPANSION * OP_COUNT
        target_map = targets.view(b, 1, 1, 1).expand(b, TARGET_CHANNELS, self.layer_count,
                                                     width)
        z = (self.chain(target_map, self.target)
             + self.chain(prior.view(b, 1, self.layer_count, width), self.prior))
        h = self.chain(F.relu(self.head(z)), self.body) + z
        raw = self.out(h).view(b, self.layer_count, MAX_EXPANSION, OP_COUNT)
        return raw * self.keep + self.mask_bias


def cost_model(preset):
    """Eq. 9 as one linear map (space/costModel.ts): expected MFLOPs =
    probs.flatten() @ weights + constant, with the depthwise cost on kernel
    ops and minus both 1x1 costs on skip."""
    size = math.ceil(preset['input_size'] / preset['stem_stride'])
    stem_c, first_c = preset['stem_channels'], preset['first_channels']
    shapes = layer_shapes(preset)
    head_size = shapes[-1]['out_size'] if shapes else size
    head_in = shapes[-1]['c_out'] if shapes else first_c
    fixed = (size * size * stem_c * 9 * preset['input_channels'] + size * size * stem_c * 9
             + size * size * stem_c * first_c
             + head_size * head_size * head_in * preset['head_channels'])

    weights = torch.zeros(len(shapes), MAX_EXPANSION, OP_COUNT)
    constant = fixed / 1e6
    for l, s in enumerate(shapes):
        one_by_one = (s['c_in'] ** 2 * s['in_size'] ** 2
                      + s['c_in'] * s['c_out'] * s['out_size'] ** 2) / 1e6
        constant += MAX_EXPANSION * one_by_one
        for j, k in enumerate(KERNELS):
            weights[l, :, j] = s['c_in'] * k * k * s['out_size'] ** 2 / 1e6
        weights[l, :, SKIP_INDEX] = -one_by_one
    return weights.flatten(), constant


class FairSampler:
    """One architecture per expansion rate (2..6) per step: in every layer the
    rates are shuffled and dealt out, forced sampling keeps the first e
    sub-blocks, and each (layer, sub-block) takes kernels in turn from its own
    shuffled cycle of {3, 5, 7} (space/sampling.ts)."""

    def __init__(self, layer_count, rng):
        self.rng = rng
        self.cycles = [[[] for _ in range(MAX_EXPANSION)] for _ in range(layer_count)]

    def next_kernel(self, l, s):
        cycle = self.cycles[l][s]
        if not cycle:
            cycle.extend(self.rng.sample(KERNELS, len(KERNELS)))
        return cycle.pop(0)

    def next_batch(self):
        rates = list(range(MIN_EXPANSION, MAX_EXPANSION + 1))
        archs = [[] for _ in rates]
        for l in range(len(self.cycles)):
            for j, e in enumerate(self.rng.sample(rates, len(rates))):
                archs[j].append([self.next_kernel(l, s) if s < e else SKIP
                                 for s in range(MAX_EXPANSION)])
        return archs


def random_architecture(layer_count, rng):
    """Uniform expansion in 2..6, the first e sub-blocks kept, uniform kernels."""
    arch = []
    for _ in range(layer_count):
        e = rng.randint(MIN_EXPANSION, MAX_EXPANSION)
        arch.append([rng.choice(KERNELS) if s < e else SKIP for s in range(MAX_EXPANSION)])
    return arch


def one_hot_prior(arch):
    """An architecture as alpha-shaped one-hot rows [L, 24] (space/priors.ts)."""
    prior = torch.zeros(len(arch), MAX_EXPANSION, OP_COUNT)
    for l, kernels in enumerate(arch):
        for s, k in enumerate(kernels):
            prior[l, s, SKIP_INDEX if k == SKIP else KERNELS.index(k)] = 1
    return prior.view(len(arch), MAX_EXPANSION * OP_COUNT)


def random_images(preset, batch):
    size, channels = preset['input_size'], preset['input_channels']
    return (torch.randn(batch, channels, size, size),
            torch.randint(0, CLASSES, (batch,)))


def sgd_for(net):
    """SGD as supernetTrainer.ts builds it: weight decay on conv and linear
    weights only, not on BN scales and shifts or the classifier's bias."""
    no_decay = {id(p) for m in net.modules() if isinstance(m, nn.BatchNorm2d)
                for p in m.parameters()}
    no_decay.add(id(net.classifier.bias))
    params = list(net.parameters())
    groups = [
        {'params': [p for p in params if id(p) not in no_decay], 'weight_decay': WEIGHT_DECAY},
        {'params': [p for p in params if id(p) in no_decay], 'weight_decay': 0.0},
    ]
    return torch.optim.SGD(groups, lr=SGD_LR, momentum=SGD_MOMENTUM, nesterov=False)


def build_supernet_step(preset, batch, rng):
    """One step of supernetTrainer.ts: one batch, one forward/backward pass per
    fair-sampled architecture (five), gradients summed (each pass's loss has
    weight 1: without micro-batches the trainer's share is 1), one SGD step.

    Images per step are the batch: the five passes re-read the same images.
    """
    net = Supernet(preset, CLASSES).train()
    optimizer = sgd_for(net)
    sampler = FairSampler(len(preset['layers']), rng)
    x, y = random_images(preset, batch)

    def step():
        # None, not zero: a parameter no pass used is left alone, momentum
        # and decay included, as the engine's optimiser does.
        optimizer.zero_grad(set_to_none=True)
        for arch in sampler.next_batch():
            logits = net.forward_single_path(x, arch)
            F.cross_entropy(logits, y, label_smoothing=LABEL_SMOOTHING).backward()
        optimizer.step()

    return step, batch, net


def build_generator_step(preset, batch, rng):
    """One step of generatorTrainer.ts (fmnist defaults): 8 targets drawn
    uniformly from the constraint interval, each with a one-hot random prior;
    alpha = G(prior, target); Gumbel-softmax op weights at the first epoch's
    temperature; ONE weighted forward of the frozen supernet over the
    validation batch, image i weighted by target i mod 8 (so each target is
    scored on 4 of the 32 images), the projection BN per layer from the rounded
    mean expected skip count; loss = cross-entropy + lambda x the relative,
    overshoot-weighted cost error; one Adam step on the generator.

    Images per step are the validation batch (32), not targets x batch (256):
    the trainer shares the batch out among the targets, so 32 images go
    through the supernet per step, whatever the number of targets.
    """
    if batch < TARGETS_PER_STEP:
        raise ValueError(f'the generator needs a validation batch of at least '
                         f'{TARGETS_PER_STEP} (one image per target), got --batch {batch}')
    layer_count = len(preset['layers'])
    supernet = Supernet(preset, CLASSES).eval().requires_grad_(False)
    generator = ArchitectureGenerator(layer_count).train()
    optimizer = torch.optim.Adam(generator.parameters(), lr=ADAM_LR, betas=ADAM_BETAS,
                                 eps=1e-8, weight_decay=0.0)
    cost_weights, cost_constant = cost_model(preset)
    low, high = preset['constraint']
    span = high - low
    x, y = random_images(preset, batch)
    owner = torch.arange(batch) % TARGETS_PER_STEP

    def step():
        targets = low + torch.rand(TARGETS_PER_STEP) * span
        priors = torch.stack([one_hot_prior(random_architecture(layer_count, rng))
                              for _ in range(TARGETS_PER_STEP)])
        alpha = generator(priors, (targets - low) / span)
        weights = F.gumbel_softmax(alpha, tau=TAU0, hard=False, dim=-1)

        expected = weights.flatten(1) @ cost_weights + cost_constant
        error = (expected - targets) / span
        cost_loss = (OVERSHOOT_WEIGHT * F.relu(error) ** 2 + F.relu(-error) ** 2).mean()

        skips = weights[..., SKIP_INDEX].detach().sum(-1).mean(0)
        max_skip = MAX_EXPANSION - MIN_EXPANSION
        sbn = [min(max_skip, max(0, math.floor(v + 0.5))) for v in skips.tolist()]
        logits = supernet.forward_weighted(x, weights[owner], sbn)
        loss = F.cross_entropy(logits, y) + COST_LAMBDA * cost_loss

        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step, batch, generator


def build_score_step(preset, batch, rng):
    """Scoring a sampled sub-network: a fresh random architecture each step,
    single path on running BN statistics, no gradients."""
    net = Supernet(preset, CLASSES).eval()
    x, _ = random_images(preset, batch)
    layer_count = len(preset['layers'])

    def step():
        with torch.inference_mode():
            net.forward_single_path(x, random_architecture(layer_count, rng))

    return step, batch, net


STEP_BUILDERS = {
    'supernet-fmnist': (lambda b, r: build_supernet_step(get_preset('fmnist'), b, r), 64),
    'supernet-cifar3': (lambda b, r: build_supernet_step(get_preset('cifar', 3), b, r), 64),
    'generator-fmnist': (lambda b, r: build_generator_step(get_preset('fmnist'), b, r),
                         VALIDATION_BATCH),
    'score-fmnist': (lambda b, r: build_score_step(get_preset('fmnist'), b, r), 256),
}


def current_rss_mb():
    """Resident set size now, from /proc (Linux)."""
    with open('/proc/self/statm', encoding='ascii') as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2 ** 20


def peak_rss_mb():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def positive_int(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'expected an integer, got {text!r}') from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f'expected an integer >= {minimum}, got {value}')
        return value
    return parse


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description='Time one training or scoring step of the workbench networks in PyTorch.')
    parser.add_argument('step', metavar='STEP', choices=STEPS, help=' | '.join(STEPS))
    parser.add_argument('--threads', type=positive_int(1),
                        help="intra-op threads (torch's default when absent)")
    parser.add_argument('--steps', type=positive_int(1),
                        help='timed steps (8; 20 for score-fmnist)')
    parser.add_argument('--warmup', type=positive_int(0), default=2,
                        help='untimed steps first (2)')
    parser.add_argument('--batch', type=positive_int(1),
                        help='images per step (64 supernet, 256 score, 32 generator '
                             'validation batch)')
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    steps = args.steps or (20 if args.step == 'score-fmnist' else 8)
    build, default_batch = STEP_BUILDERS[args.step]
    batch = args.batch or default_batch

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    try:
        step, images_per_step, trained = build(batch, rng)
    except ValueError as bad:
        print(f'torch_steps.py: {bad}', file=sys.stderr)
        return 2
    params = sum(p.numel() for p in trained.parameters())
    idle_rss = current_rss_mb()
    threads = torch.get_num_threads()
    print(f'{args.step}: torch {torch.__version__}, {threads} thread(s), {params:,} params, '
          f'{images_per_step} images/step, idle RSS {idle_rss:.0f} MB', file=sys.stderr)

    for _ in range(args.warmup):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = (time.perf_counter() - started) / steps

    result = {
        'name': args.step,
        'imgPerSec': images_per_step / seconds,
        'secondsPerStep': seconds,
        'imagesPerStep': images_per_step,
        'threads': threads,
        'peakRssMB': peak_rss_mb(),
        'idleRssMB': idle_rss,
        'torch': torch.__version__,
        'params': params,
    }
    print(f'{args.step}: {steps} steps after {args.warmup} warm-up, '
          f'{seconds:.3f} s/step, {result["imgPerSec"]:.1f} img/s, '
          f'peak RSS {result["peakRssMB"]:.0f} MB', file=sys.stderr)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
