def test_world_builds(world):
    assert world.trial_a.sponsor == world.sponsor_a
