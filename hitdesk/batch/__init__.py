"""``hitdesk batch``: score or featurise a catalogue into a Parquet dataset, resumably, on processes or Ray.

``plan`` expands the sources and keys each file; ``dataset`` keeps the Parquet parts and the keys
already done; ``schema`` turns an ``analyze --json`` object into a row and back; ``work`` analyses
one file the same way on either engine; ``local`` runs it in processes and ``ray_engine`` on Ray
Data (the only module that imports Ray); ``run`` ties them together with ``progress``.
"""
