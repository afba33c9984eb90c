"""The sandbox world: real entities and the messy records the four systems hold of them.

``sandbox.world.model`` is the data contract, ``sandbox.world.generate.generate`` builds a world,
``sandbox.world.truth.truth_rows`` lists which entity each served record describes.
"""
