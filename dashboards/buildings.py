"""The buildings dashboard (SQL on the database), per tenant and entity: usages by
transmission status, open alarms, readings per hour, daily energy.

Every query is filtered by the `$tenant` variable, which is a convenience, not a
barrier: Grafana's database role must be read-only, and a tenant's own viewers need a
Grafana organisation whose data source logs in as a role that sees only that tenant's
rows (the README's runbook).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, QueryVariable
from grafana_foundation_sdk.models.dashboard import VariableRefresh, VariableSort

from dashboards.panels import PanelBuilder, pie, rows, series
from dashboards.sources import POSTGRES, sql

__all__ = ["buildings_dashboard"]


def buildings_dashboard() -> Dashboard:
    return (
        Dashboard("SMATI buildings")
        .uid("smati-buildings")
        .tags(["smati", "generated"])
        .time("now-7d", "now")
        .refresh("5m")
        .timezone("browser")
        .with_variable(
            _variable("tenant", "Tenant", "SELECT id FROM tenants ORDER BY sort_order, id")
        )
        .with_variable(
            _variable(
                "entity",
                "Building",
                "SELECT id FROM entities WHERE tenant_id = '$tenant' ORDER BY sort_order, id",
            )
        )
        .with_panel(_usages_by_status())
        .with_panel(_open_alarms_by_severity())
        .with_panel(_open_alarms())
        .with_panel(_readings_per_hour())
        .with_panel(_daily_energy())
    )


def _variable(name: str, label: str, query: str) -> QueryVariable:
    return (
        QueryVariable(name)
        .label(label)
        .datasource(POSTGRES)
        .query(query)
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.DISABLED)
    )


def _usages_by_status() -> PanelBuilder:
    return pie(
        "Usages by transmission status",
        "The building's usages by status as the stream last stored it: green, orange "
        "(late), red (cut: past the red threshold), violet (never heard).",
        POSTGRES,
        sql(
            """
            SELECT t.status AS metric, count(*) AS usages
            FROM usage_transmission t JOIN usages u ON u.id = t.usage_id
            WHERE u.tenant_id = '$tenant' AND u.entity_id = '$entity'
            GROUP BY t.status ORDER BY t.status
            """,
            table=True,
        ),
    )


def _open_alarms_by_severity() -> PanelBuilder:
    return pie(
        "Open alarms by severity",
        "Alarms not cleared in the building, by severity.",
        POSTGRES,
        sql(
            """
            SELECT severity AS metric, count(*) AS alarms
            FROM alarms
            WHERE tenant_id = '$tenant' AND entity_id = '$entity' AND NOT cleared
            GROUP BY severity ORDER BY severity
            """,
            table=True,
        ),
    )


def _open_alarms() -> PanelBuilder:
    return rows(
        "Open alarms",
        "Alarms not cleared, newest first: usage, type, severity, whether acknowledged "
        "(status), how often it repeated.",
        POSTGRES,
        sql(
            """
            SELECT start_ts AS "time", usage_id, type, severity, status, occurrences
            FROM alarms
            WHERE tenant_id = '$tenant' AND entity_id = '$entity' AND NOT cleared
            ORDER BY start_ts DESC LIMIT 200
            """,
            table=True,
        ),
    )


def _readings_per_hour() -> PanelBuilder:
    return series(
        "Readings per hour",
        "Readings stored per hour for the building's usages: a drop is a silent device or network.",
        "none",
        POSTGRES,
        sql(
            """
            SELECT $__timeGroupAlias(r.ts, '1h'), count(*) AS readings
            FROM readings r JOIN usages u ON u.id = r.usage_id
            WHERE $__timeFilter(r.ts) AND r.tenant_id = '$tenant' AND u.entity_id = '$entity'
            GROUP BY 1 ORDER BY 1
            """
        ),
    )


def _daily_energy() -> PanelBuilder:
    return series(
        "Daily energy (kWh)",
        "Energy per day of the building's meters in kWh (or with a kWh factor): an index "
        "meter's rise over the day, a consumption meter's sum; days in UTC, index resets "
        "not corrected (the monthly report corrects them).",
        "kwatth",
        POSTGRES,
        sql(
            """
            SELECT day AS "time", u_id AS metric, energy
            FROM (
                SELECT $__timeGroup(r.ts, '1d') AS day, u.id AS u_id,
                       CASE WHEN u.type = 'index' THEN max(r.value) - min(r.value)
                            ELSE sum(greatest(r.value, 0)) END
                       * coalesce(u.kwh_per_unit, 1) AS energy
                FROM readings r JOIN usages u ON u.id = r.usage_id
                WHERE $__timeFilter(r.ts) AND r.tenant_id = '$tenant'
                  AND u.entity_id = '$entity'
                  AND (u.unit = 'kWh' OR u.kwh_per_unit IS NOT NULL)
                  AND u.type IN ('index', 'consumption')
                GROUP BY 1, 2
            ) daily
            ORDER BY 1, 2
            """
        ),
    )
