"""The public portal of the national registry (公共数据资源登记平台的公开窗口): pages and a JSON API.

Run it with ``python -m national_node.portal --config deploy/national.toml`` (``registry-federation``
starts it beside the nodes). It reads the national ledger's database and acts through the national
node's gRPC API; see :class:`national_node.settings.PortalSettings`.
"""
