"""SMATI's HTTP API (`smati serve`): routers over storage/, one tenant per bearer token.

Imports models/ and storage/ only. `api.app.build_app` composes the routers; later pages
(the cleansing review) add theirs the same way.
"""
