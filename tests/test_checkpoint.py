"""Checkpoints load to the CPU and resume onto any device: the class of bug where a GPU resume mapped the random
generators' states to the GPU (``torch.set_rng_state`` takes a CPU ByteTensor only), caught without a GPU."""
from __future__ import annotations

import pytest
import torch

from zoo.checkpoint import load_checkpoint, restore_training_state, save_checkpoint, training_state
from zoo.loop import make_ema, make_optimizer
from zoo.models import build_model
from zoo.recipes import get_recipe


def run_objects(recipe, device: torch.device):
    model = build_model(recipe.model).to(device)
    optimizer, scheduler = make_optimizer(model, recipe, steps_per_epoch=3)
    return model, optimizer, scheduler, make_ema(model, recipe), torch.Generator().manual_seed(recipe.seed)


@pytest.mark.filterwarnings("ignore:for module.*meta parameter")  # (copying values into meta tensors does nothing)
def test_a_checkpoint_resumes_onto_another_device_with_its_generators_on_the_cpu(tmp_path):
    recipe = get_recipe("lenet").with_overrides(ema_decay=0.99)  # momentum buffers and an EMA too
    torch.manual_seed(0)
    model, optimizer, scheduler, ema, generator = run_objects(recipe, torch.device("cpu"))
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    optimizer.step()
    scheduler.step()
    ema.update_parameters(model)
    torch.randint(0, 10, (5,), generator=generator)
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"recipe": recipe.to_dict(), "subsets": [None, None], "epoch": 1, "elapsed_s": 0.0,
                           "history": [], **training_state(model, optimizer, scheduler, ema, generator,
                                                           torch.device("cpu"))})
    saved_rng = torch.get_rng_state()

    state = load_checkpoint(path)

    # "meta" stands in for the GPU: a device that is not the CPU, whose tensors torch.set_rng_state refuses.
    meta = torch.device("meta")
    torch.manual_seed(1)  # the restore must bring the saved state back
    resumed = run_objects(recipe, meta)
    restore_training_state(state, *resumed, device=meta)
    assert torch.equal(torch.get_rng_state(), saved_rng)
    assert torch.equal(resumed[4].get_state(), generator.get_state())
    assert all(p.device == meta for p in resumed[0].parameters())
    momentum = [s["momentum_buffer"] for s in resumed[1].state.values()]
    assert momentum and all(m.device == meta for m in momentum)
    assert resumed[2].state_dict() == scheduler.state_dict()
