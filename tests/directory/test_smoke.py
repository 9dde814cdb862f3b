"""The directory starts, seeds and answers."""


async def test_root_names_the_profile(seeded_client):
    response = await seeded_client.get("/")
    assert response.status_code == 200
    assert response.json()["version"] == "HSDS-UK-3.0"


async def test_services_lists_roles_and_samples(seeded_client):
    response = await seeded_client.get("/services?per_page=100")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_items"] == 19
