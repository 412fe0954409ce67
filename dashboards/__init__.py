"""Grafana dashboards as code (grafana-foundation-sdk): the pipeline's, from Prometheus,
and the buildings', from SQL on the database; their JSON and Grafana's provisioning files
are generated into `grafana/` by `smati dashboards build` and committed."""
