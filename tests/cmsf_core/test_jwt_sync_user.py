"""Real-org wiring of the sync user: logins go through simple-salesforce's JWT bearer flow."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.connection import SalesforceCredentials
from cmsf_core.engine import Engine
from cmsf_core.platforms import salesforce_login
from cmsf_core.state import Journal
from scenarios.world import World


def _connected_app(world: World, tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "server.key"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    world.org.control.add_connected_app("cmsf-app", "app-secret", certificate=public.decode())
    return path


def test_syncs_run_as_the_sync_user_through_jwt_bearer(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    credentials = SalesforceCredentials(
        username=world.org.admin_username,
        consumer_key="cmsf-app",
        private_key_file=str(_connected_app(world, tmp_path)),
    )
    sync_user = world.org.control.add_user("sync@acme.example.com", last_name="Sync")
    engine.change_sync_user("sync@acme.example.com")
    real = Engine(
        salesforce=salesforce_login(credentials),
        as_user=lambda username: salesforce_login(credentials, username=username),
        campaign_monitor=lambda: CampaignMonitorClient(
            api_key=world.account.api_key, transport=world.account.transport(), clock=world.clock
        ),
        journal=Journal(),
        clock=world.clock,
    )
    with world.org.intercept():  # the org answers its login and instance hosts in process
        assert real.gateway().current_user_id() == world.org.running_user_id  # the admin
        assert real.sync_gateway().current_user_id() == sync_user
        assert real.sync().status == "completed"
    creators = {r["CreatedById"] for r in world.org.query("SELECT CreatedById FROM CMSF_List__c")}
    assert creators == {sync_user}
