"""python -m au2bs.train: train one architecture on a dataset, report test metrics."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

from au2bs import cli
from au2bs.data import load_dataset
from au2bs.data.default import choose_dataset
from au2bs.errors import InputError
from au2bs.train.checkpoint import CHECKPOINT_FILE
from au2bs.train.config import TrainConfig
from au2bs.train.report import format_metrics
from au2bs.train.trainer import DivergedError, EpochRecord, Trainer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m au2bs.train",
        description="Train one architecture on a dataset; prints progress per epoch and the test "
        "metrics of the best epoch, and saves a checkpoint for au2bs.predict.",
    )
    cli.add_arch(parser)
    cli.add_data(parser)
    parser.add_argument("--out", required=True, help="folder for checkpoint.pt, config.json and metrics.json")
    parser.add_argument("--epochs", type=int, default=80, help="epochs to train (default: %(default)s)")
    parser.add_argument(
        "--patience",
        type=int,
        default=10,
        help="early stopping patience in epochs; 0 = off (default: %(default)s)",
    )
    parser.add_argument("--hidden-size", type=int, help="hidden size (default: the architecture's, 128)")
    parser.add_argument("--dropout", type=float, help="dropout (default: the architecture's)")
    parser.add_argument(
        "--negrelu-weight", type=float, help="NegReLU penalty weight where the loss has one (default: 1)"
    )
    parser.add_argument("--batch-size", type=int, help="sequences per batch (default: the architecture's, 4)")
    parser.add_argument("--lr", type=float, help="Adam learning rate (default: the architecture's, 1e-3)")
    parser.add_argument(
        "--max-frames",
        type=int,
        help="train only on sequences shorter than this (default: the architecture's)",
    )
    parser.add_argument(
        "--grad-clip", type=float, default=1.0, help="gradient norm clip; 0 = off (default: %(default)s)"
    )
    cli.add_seed(parser, "seed for initialisation, dropout and batch order")
    cli.add_device(parser)
    parser.add_argument("--threads", type=int, help="CPU threads for PyTorch (default: PyTorch's choice)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument(
        "--force", action="store_true", help="start over even if OUT already holds a checkpoint"
    )
    return parser


def _config(args: argparse.Namespace) -> TrainConfig:
    cli.check_architecture(args.arch)
    overrides = {
        "hidden_size": args.hidden_size,
        "dropout": args.dropout,
        "negrelu_weight": args.negrelu_weight,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "max_frames": args.max_frames,
    }
    try:
        return TrainConfig.for_architecture(
            args.arch,
            epochs=args.epochs,
            patience=args.patience or None,
            grad_clip=args.grad_clip or None,
            seed=args.seed,
            **{key: value for key, value in overrides.items() if value is not None},
        )
    except ValueError as error:
        raise InputError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    return cli.run_main(_parser(), _train, argv)


def _train(args: argparse.Namespace) -> int:
    config = _config(args)
    device = cli.device(args.device)
    out = Path(args.out)
    checkpoint = out / CHECKPOINT_FILE
    if checkpoint.exists() and not (args.resume or args.force):
        raise InputError("already holds a checkpoint; use --resume to continue or --force to start over", out)
    if args.resume and not checkpoint.exists():
        raise InputError("--resume: no checkpoint to continue from", checkpoint)
    dataset = choose_dataset(args.data)
    data = load_dataset(dataset.path)

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.resume:
        trainer = Trainer.from_checkpoint(checkpoint, data["train"], data["val"], device)
        # --epochs is the total to reach; everything else comes from the checkpoint.
        trainer.config = replace(trainer.config, epochs=args.epochs)
        print(f"resuming {trainer.config.arch} at epoch {trainer.epoch} of {args.epochs}")
    else:
        trainer = Trainer(config, data["train"], data["val"], device, dataset.provenance)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(trainer.config.to_dict(), indent=1) + "\n")
    print(
        f"{trainer.config.arch} on {dataset.path}: {len(trainer.train_indices)} train / {len(data['val'])} val sequences, "
        f"{sum(p.numel() for p in trainer.model.parameters()):,} parameters, {trainer.device}"
    )

    def report(record: EpochRecord, trainer: Trainer) -> None:
        trainer.save(checkpoint)  # every epoch: an interrupted run resumes here
        print(
            f"epoch {record.epoch:3d}/{trainer.config.epochs}  train loss {record.train_loss:.5f}  "
            f"val MSE {record.val['blendshapes/mse']:.5f}  R2 {record.val['blendshapes/r2']:.3f}  "
            f"({record.seconds:.1f} s){'  *' if record.is_best else ''}",
            flush=True,
        )

    try:
        trainer.run(callbacks=(report,))
    except DivergedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    trainer.load_best_weights()
    test = trainer.evaluate(data["test"])
    (out / "metrics.json").write_text(
        json.dumps({"best_epoch": trainer.best.epoch, "test": test, "history": trainer.history}, indent=1)
        + "\n"
    )
    print(f"best epoch {trainer.best.epoch}; test metrics:")
    print(format_metrics(test))
    print(f"checkpoint: {checkpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
