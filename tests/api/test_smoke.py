from starlette.testclient import TestClient

from tests.builders import make_user


def test_post_and_read_home(client: TestClient) -> None:
    alice = make_user(client)
    bob = make_user(client)
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").json()["following"] is True
    posted = alice.status(f"Bonjour le #Parvis, @{bob.username} !")
    home = bob.get("/api/v1/timelines/home").json()
    assert [s["id"] for s in home] == [posted["id"]]
    assert posted["tags"][0]["name"] == "parvis"
    notes = bob.get("/api/v1/notifications")
    assert notes.status_code in (200, 404)
