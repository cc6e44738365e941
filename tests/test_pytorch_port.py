"""A model and training loop written for PyTorch run here after renaming the imports, and give the same losses."""

from __future__ import annotations

import numpy as np
import pytest

# The same source twice: only the import lines differ.
PROGRAM = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        x = x.view(x.shape[0], -1)
        return self.fc2(F.relu(self.fc1(x)))


def train(net, batches, steps):
    opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for step in range(steps):
        x, y = batches[step % len(batches)]
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses
'''

TORCH_IMPORTS = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport torch.optim as optim\n"
OUR_IMPORTS = ("import tinygrad_cnn as torch\nimport tinygrad_cnn.nn as nn\nimport tinygrad_cnn.functional as F\n"
               "import tinygrad_cnn.optim as optim\n")


def run(imports: str) -> dict:
    scope: dict = {}
    exec(imports + PROGRAM, scope)
    return scope


def test_the_same_cnn_and_loop_give_torchs_losses() -> None:
    torch = pytest.importorskip("torch")
    theirs, ours = run(TORCH_IMPORTS), run(OUR_IMPORTS)
    torch.manual_seed(0)
    tnet = theirs["Net"]().double()
    onet = ours["Net"]()
    onet.to(np.float64)
    onet.load_state_dict({k: v.detach().numpy().copy() for k, v in tnet.state_dict().items()})
    rng = np.random.default_rng(0)
    raw = [(rng.standard_normal((6, 1, 16, 16)), rng.integers(0, 3, 6)) for _ in range(3)]
    tb = [(torch.tensor(x), torch.tensor(y)) for x, y in raw]
    ob = [(ours["torch"].Tensor(x), y) for x, y in raw]
    t_losses = theirs["train"](tnet, tb, 8)
    o_losses = ours["train"](onet, ob, 8)
    np.testing.assert_allclose(o_losses, t_losses, rtol=1e-9)
    assert o_losses[-1] < o_losses[0]
    for name, p in onet.named_parameters():
        np.testing.assert_allclose(p.data, tnet.state_dict()[name].numpy(), rtol=1e-7, atol=1e-10)
