"""The trust boundary: a submission's code runs only in a confined worker process.

``intake`` decides what is gradable, ``view`` what a worker can import, ``backends`` how
it is confined and ``limits`` what it may use. ``classroom`` holds what a class's workers
share, ``template`` (the parent's side) and ``zygote`` (its own) fork each submission's
warm worker, which ``isolate`` puts in its own namespaces. ``runner`` drives a worker
from the parent through ``process``, ``worker`` runs in it, ``plan`` and ``transport``
are what crosses, ``catalog`` what the parent accepts of its listing, and ``local`` runs
trusted code through the same plans.
"""
