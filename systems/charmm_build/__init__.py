"""Build molgen's CHARMM files (psf, prm, minimised pdb) offline from OpenMM's charmm36.xml.

No CHARMM toppar files ship with pip packages; OpenMM's ``charmm36.xml`` (CHARMM36,
toppar_c36_aug15) does. This package builds the OpenMM System of a residue template from
that ffxml and writes its terms as genuine CHARMM psf/prm files, then minimises starting
coordinates with them. Rebuild everything with ``python -m systems.charmm_build``.

Modules: ``ffxml_source`` (read the ffxml), ``model_from_ffxml`` (System -> CHARMM model),
``psf_writer``/``prm_writer``/``pdb_writer`` (text), ``geometry``/``minimise``
(coordinates), ``molecules`` (what is built), ``build`` (orchestration),
``provenance`` (PROVENANCE.md).
"""

__all__: list[str] = []
