"""Service catalogs (v3, v2.0, Rackspace) and endpoint selection by type, name, region and interface."""

from __future__ import annotations

import pytest

from asynccloud import ConfigurationError
from asynccloud.auth.keystone import Endpoint, EndpointFilter, ServiceCatalog
from tests.drivers.openstack._support import PROJECT, SWIFT, SWIFT_REGION2, load, load_rackspace


@pytest.fixture
def v3() -> ServiceCatalog:
    return ServiceCatalog.from_v3(load("keystone_v3_token.json")["token"]["catalog"])


@pytest.fixture
def v2() -> ServiceCatalog:
    return ServiceCatalog.from_v2(load("keystone_v2_access.json")["access"]["serviceCatalog"])


@pytest.fixture
def rackspace() -> ServiceCatalog:
    return ServiceCatalog.from_v2(load_rackspace("identity_v2_access.json")["access"]["serviceCatalog"])


def test_v3_catalog_is_parsed_into_endpoints(v3: ServiceCatalog) -> None:
    swift = [e for e in v3.endpoints if e.service_type == "object-store"]
    assert len(swift) == 4
    assert Endpoint("object-store", "swift", "public", "RegionOne", SWIFT) in swift
    assert {e.interface for e in swift} == {"public", "internal", "admin"}
    assert "object-store/swift" in repr(v3)


def test_v3_selection_by_type_region_and_interface(v3: ServiceCatalog) -> None:
    assert v3.select("object-store", region="RegionOne").url == SWIFT
    assert v3.select("object-store", region="regiontwo").url == SWIFT_REGION2  # regions ignore case
    internal = v3.select("object-store", region="RegionOne", interface="internal")
    assert internal.url.startswith("http://swift.internal.example.com:8080/v1/AUTH_")
    assert v3.select("object-store", region="RegionOne", interface="internalURL") == internal
    assert (
        v3.select("compute").url == "https://nova.example.com:8774/v2.1"
    )  # one region only: no region needed
    assert v3.select(service_name="cinderv3").service_type == "volumev3"


def test_v3_ambiguous_region_asks_for_one(v3: ServiceCatalog) -> None:
    with pytest.raises(
        ConfigurationError, match=r"several public endpoint of type 'object-store'.*pass region="
    ):
        v3.select("object-store")


def test_missing_service_lists_the_catalog(v3: ServiceCatalog) -> None:
    with pytest.raises(ConfigurationError) as info:
        v3.select("dns", region="RegionOne")
    message = str(info.value)
    assert "no public endpoint of type 'dns' in region 'RegionOne'" in message
    assert (
        "object-store (swift): RegionOne/admin, RegionOne/internal, RegionOne/public, RegionTwo/public"
        in message
    )


def test_unknown_region_is_not_swapped_for_another(v3: ServiceCatalog) -> None:
    with pytest.raises(ConfigurationError, match="in region 'RegionNine'"):
        v3.select("object-store", region="RegionNine")


def test_bad_interface_is_rejected(v3: ServiceCatalog) -> None:
    with pytest.raises(ConfigurationError, match="interface must be one of public, internal, admin"):
        v3.select("object-store", interface="private")


def test_v2_catalog_maps_url_keys_to_interfaces(v2: ServiceCatalog) -> None:
    swift = v2.select("object-store", region="RegionOne")
    assert swift.url == "https://swift.example.com/v1/AUTH_fc394f2ab2df4114bde39905f800dc57"
    assert v2.select("object-store", interface="admin").url == "http://swift.internal.example.com:8080"
    assert len([e for e in v2.endpoints if e.service_type == "compute"]) == 3


def test_rackspace_catalog_by_name_and_region(rackspace: ServiceCatalog) -> None:
    files = rackspace.select("object-store", service_name="cloudFiles", region="ord")
    assert files.url.startswith("https://storage101.ord1.clouddrive.com/v1/MossoCloudFS_")
    assert files.tenant_id == "MossoCloudFS_530f8649-324c-499c-a075-2195854d52a7"
    snet = rackspace.select("object-store", service_name="cloudFiles", region="ORD", interface="internal")
    assert snet.url.startswith("https://snet-storage101.ord1.clouddrive.com/")
    cdn = rackspace.select("rax:object-cdn", service_name="cloudFilesCDN", region="lon")
    assert cdn.url.startswith("https://cdn3.clouddrive.co.uk/v1/")
    compute = rackspace.select("compute", service_name="cloudServersOpenStack", region="iad")
    assert compute.url == "https://iad.servers.api.rackspacecloud.com/v2/1100111"
    lb = rackspace.select("rax:load-balancer", region="dfw")
    assert lb.url == "https://dfw.loadbalancers.api.rackspacecloud.com/v1.0/1100111"


def test_global_endpoints_match_any_region(rackspace: ServiceCatalog) -> None:
    # cloudDNS has no region: it serves every region.
    assert rackspace.select("rax:dns", region="syd").url == "https://dns.api.rackspacecloud.com/v1.0/1100111"


def test_regional_service_missing_in_a_region_is_an_error(rackspace: ServiceCatalog) -> None:
    # HKG has no Cloud Files in this account: never fall back to another region or a global service.
    with pytest.raises(ConfigurationError, match="in region 'hkg'"):
        rackspace.select("object-store", service_name="cloudFiles", region="hkg")


def test_regional_service_preferred_over_a_global_one() -> None:
    catalog = ServiceCatalog(
        [
            Endpoint(
                "compute", "cloudServers", "public", None, "https://servers.api.rackspacecloud.com/v1.0/1"
            ),
            Endpoint("compute", "cloudServersOpenStack", "public", "ORD", "https://ord.servers/v2/1"),
        ]
    )
    assert catalog.select("compute", region="ord").url == "https://ord.servers/v2/1"
    assert catalog.select("compute", region="dfw").url == "https://servers.api.rackspacecloud.com/v1.0/1"


def test_empty_catalog_hints_at_an_unscoped_token() -> None:
    with pytest.raises(ConfigurationError, match="unscoped token"):
        ServiceCatalog().select("object-store")


def test_malformed_entries_are_skipped() -> None:
    catalog = ServiceCatalog.from_v3(
        [
            "junk",
            {
                "type": "object-store",
                "endpoints": [{"interface": "public"}, {"url": "https://x", "interface": "x"}],
            },
            {"name": "no-type", "endpoints": [{"interface": "public", "url": "https://y"}]},
            {"type": "dns", "endpoints": [{"interface": "PUBLIC", "url": "https://dns"}]},
        ]
    )
    assert catalog.endpoints == (Endpoint("dns", None, "public", None, "https://dns"),)
    assert ServiceCatalog.from_v2(None).endpoints == ()


def test_endpoint_filter_override_skips_the_catalog(v3: ServiceCatalog) -> None:
    assert EndpointFilter("object-store", endpoint="http://127.0.0.1:8080/v1/AUTH_x").select(v3) == (
        "http://127.0.0.1:8080/v1/AUTH_x"
    )
    assert EndpointFilter("object-store", region="RegionTwo").select(v3) == SWIFT_REGION2
    with pytest.raises(ConfigurationError, match="endpoint must be an http"):
        EndpointFilter("object-store", endpoint="ftp://nope")
    assert PROJECT in SWIFT
