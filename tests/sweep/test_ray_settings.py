"""RayExecutor's settings for the local instance it starts (``LOCAL_INIT``, ``LOCAL_REMOTE``) reach
``ray.init`` and the chunks' Ray tasks only when it starts that instance: a cluster's address, or a Ray
already running in this process, is used as it is. A fake ``ray`` module records the calls (no Ray runs)."""

from __future__ import annotations

import sys
import types

import pytest

from gigawatt.sweep.executors import RayExecutor


class FakeRay(types.ModuleType):
    def __init__(self, initialized: bool = False):
        super().__init__("ray")
        self.initialized = initialized
        self.inits: list[dict] = []
        self.remotes: list[dict] = []

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs):
        self.inits.append(kwargs)
        self.initialized = True

    def remote(self, **options):
        self.remotes.append(options)
        return lambda fn: types.SimpleNamespace(remote=lambda *a, **k: 4242)

    def get(self, refs):
        return refs

    def shutdown(self):
        self.initialized = False


@pytest.fixture
def fake(monkeypatch):
    def make(initialized: bool = False) -> FakeRay:
        ray = FakeRay(initialized)
        monkeypatch.setitem(sys.modules, "ray", ray)
        return ray
    return make


def test_a_local_instance_gets_the_settings(fake):
    ray = fake()
    ex = RayExecutor(2)
    (kw,) = ray.inits
    assert kw["num_cpus"] == 2 and "address" not in kw
    for key, value in RayExecutor.LOCAL_INIT.items():
        assert kw[key] == value
    chunk_options = ray.remotes[0]  # the chunks' remote function is made first
    assert chunk_options["num_cpus"] == 1 and chunk_options["max_retries"] == 0
    for key, value in RayExecutor.LOCAL_REMOTE.items():
        assert chunk_options[key] == value
    assert ex.started
    ex.close()
    assert not ray.initialized


def test_a_cluster_gets_none_of_them(fake):
    ray = fake()
    ex = RayExecutor(2, address="ray://head:10001")
    (kw,) = ray.inits
    assert kw["address"] == "ray://head:10001"
    assert not set(RayExecutor.LOCAL_INIT) & set(kw), "a local instance's settings were sent to a cluster"
    assert not set(RayExecutor.LOCAL_REMOTE) & set(ray.remotes[0])
    assert not ex.started
    ex.close()
    assert ray.initialized  # a cluster is left running


def test_a_running_ray_is_used_as_it_is(fake):
    ray = fake(initialized=True)
    RayExecutor(1)
    assert ray.inits == []
    assert not set(RayExecutor.LOCAL_REMOTE) & set(ray.remotes[0])


def test_the_settings_are_there_to_check():
    # the tests above check every key of these; they must not pass by having none to check
    assert RayExecutor.LOCAL_INIT and RayExecutor.LOCAL_REMOTE
