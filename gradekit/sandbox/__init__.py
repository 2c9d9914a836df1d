"""The trust boundary: a submission's code runs only in a confined worker process.

``intake`` decides what is gradable, ``view`` what a worker can import, ``backends`` how
it is confined, ``runner`` drives it from the parent, ``worker`` runs in it, ``plan`` and
``transport`` are what crosses, and ``catalog`` what the parent accepts of its listing.
"""
