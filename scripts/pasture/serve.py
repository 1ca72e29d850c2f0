"""Runs fediverse-pasture's verify-actor application on a loopback address.

`python -m fediverse_pasture.verify_actor` binds every interface; this binds
only the address given.

usage: serve.py DOMAIN ADDRESS   e.g. serve.py pasture.test:2909 127.0.0.1
"""

import sys

from fediverse_pasture.verify_actor import build_app

domain, address = sys.argv[1], sys.argv[2]
port = int(domain.rsplit(":", 1)[1])
# (only_generate_config, domain, https, timeout in seconds)
app = build_app(False, domain, False, 20)
app.run(host=address, port=port)
