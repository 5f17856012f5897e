"""The timed training loop shared by the PyTorch comparison scripts (bench_train_torch.py,
bench_train_t5_torch.py): forward, backward, then clipping + optimiser step, each timed; the median
of the steps after the warm-up is reported, as `ntng bench train` does."""
import argparse
import statistics
import time

import torch


def argument_parser(batch):
    """The options every comparison script shares: timing, the model's common sizes, torch.compile."""
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    return p


def time_training_steps(model, opt, step_model, batch, clip, warmup, steps):
    """Runs warmup + steps training steps; `batch()` gives the arguments of `step_model`, which
    returns the loss. Returns (median step seconds, phase milliseconds, last loss)."""
    fwd, bwd, optim, total = [], [], [], []
    loss = None
    for step in range(warmup + steps):
        args = batch()
        t0 = time.perf_counter()
        loss = step_model(*args)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        t3 = time.perf_counter()
        if step >= warmup:
            fwd.append(t1 - t0); bwd.append(t2 - t1); optim.append(t3 - t2); total.append(t3 - t0)
    ms = lambda xs: round(statistics.median(xs) * 1000, 2)
    phases = {"forward": ms(fwd), "backward": ms(bwd), "optimizer": ms(optim)}
    return statistics.median(total), phases, float(loss.detach())
