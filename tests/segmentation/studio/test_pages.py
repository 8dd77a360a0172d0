"""The studio's pages: list and training forms, the model card, a customer's scores in scope."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bankcrm.core.lake import Lake
from bankcrm.segmentation.studio import service as studio
from tests.segmentation.studio.history import churn_history, run_table, write_run


def test_the_list_offers_the_lake_features_to_train_on(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    churn_history(lake, 30)
    page = signed_in("analyst").client.get("/models")
    assert page.status_code == 200
    assert "模型工作室" in page.text
    assert 'value="txn_count_change_3m"' in page.text
    assert "暂无模型" in page.text


def test_training_from_the_form_opens_the_model_card_with_both_aucs(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    churn_history(lake, 200)
    session = signed_in("analyst")
    response = session.client.post(
        "/models/train", data={"name": "流失预警", "split_date": "2025-05-01", "csrf_token": session.csrf}
    )
    assert response.status_code == 303
    card = session.client.get(response.headers["location"]).text
    assert "流失预警" in card
    assert 'data-metric="holdout_auc"' in card
    assert "逻辑回归" in card
    assert 'data-testid="calibration"' in card
    assert 'data-testid="activate"' in card


def test_a_bad_split_date_is_shown_next_to_the_field(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    churn_history(lake, 30)
    session = signed_in("analyst")
    response = session.client.post(
        "/models/train", data={"name": "x", "split_date": "2025-13-01", "csrf_token": session.csrf}
    )
    assert response.status_code == 422
    assert 'data-field-error="split_date"' in response.text


def test_a_leaking_upload_shows_the_warning_on_the_card(signed_in) -> None:  # type: ignore[no-untyped-def]
    import io

    import pyarrow.csv as pa_csv

    from tests.segmentation.studio.data import nonlinear_table

    buffer = io.BytesIO()
    pa_csv.write_csv(nonlinear_table(300, leak=True), buffer)
    session = signed_in("analyst")
    response = session.client.post(
        "/models/upload",
        data={
            "upload_name": "上传",
            "target": "churned",
            "id_column": "customer",
            "csrf_token": session.csrf,
        },
        files={"file": ("labelled.csv", buffer.getvalue(), "text/csv")},
    )
    assert response.status_code == 303
    card = session.client.get(response.headers["location"]).text
    assert 'data-testid="leakage"' in card
    assert "closed_days" in card


def test_a_customers_scores_show_top_factors_and_stay_in_scope(  # type: ignore[no-untyped-def]
    db: Session, lake: Lake, as_user, make_customer, signed_in
) -> None:
    from tests.segmentation.studio.data import nonlinear_table

    person = make_customer("rm.zhang", name="甲一")
    write_run(lake, date(2025, 8, 31), run_table([person.id], [1.5], [1.2], [0.5]))
    table = nonlinear_table(400).rename_columns(
        ["customer", "aum", "txn_count_change_3m", "digital_share_3m", "churned"]
    )
    card = studio.train_from_table(
        db, as_user("analyst"), table=table, name="上传", target="churned", source="u.csv"
    )
    studio.activate_model(db, as_user("analyst"), lake, model_id=card.id)
    mine = signed_in("rm.zhang").client.get(f"/models/customers/{person.id}")
    assert mine.status_code == 200
    assert 'data-factor="aum"' in mine.text
    other = signed_in("rm.chen").client.get(f"/models/customers/{person.id}")
    assert other.status_code == 404


def test_the_card_speaks_english(db: Session, as_user, signed_in) -> None:  # type: ignore[no-untyped-def]
    from tests.segmentation.studio.data import nonlinear_table

    card = studio.train_from_table(
        db, as_user("analyst"), table=nonlinear_table(300), name="m", target="churned", source="u.csv"
    )
    session = signed_in("analyst")
    session.client.post("/lang", data={"locale": "en", "next": "/", "csrf_token": session.csrf})
    page = session.client.get(f"/models/{card.id}").text
    assert "ROC-AUC, hold-out" in page
    assert "Lift, top decile (hold-out)" in page


def test_the_list_offers_every_history_target_and_the_response_list_by_name(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    churn_history(lake, 30)
    page = signed_in("analyst").client.get("/models").text
    for key in (
        "churn",
        "purchase:wealth",
        "purchase:fund",
        "purchase:insurance",
        "purchase:time_deposit",
        "default",
    ):
        assert f'<option value="{key}"' in page
    assert "购买理财" in page
    assert "信用违约" in page
    assert 'data-testid="train-response"' in page
    assert "营销活动响应名单" in page


def test_a_purchase_model_is_trained_from_the_form_and_its_card_gives_the_definition(
    lake: Lake, signed_in
) -> None:  # type: ignore[no-untyped-def]
    from tests.segmentation.studio.history import purchase_history

    purchase_history(lake, 200)
    session = signed_in("analyst")
    response = session.client.post(
        "/models/train",
        data={
            "name": "基金购买",
            "target": "purchase:wealth",
            "split_date": "2025-04-01",
            "csrf_token": session.csrf,
        },
    )
    assert response.status_code == 303
    card = session.client.get(response.headers["location"]).text
    assert "购买理财" in card
    assert "未持有理财的客户" in card
    assert "其后 3 个月内的批次打标" in card


def test_default_without_a_year_of_runs_says_so_above_the_form(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    churn_history(lake, 30)
    session = signed_in("analyst")
    response = session.client.post(
        "/models/train", data={"name": "违约", "target": "default", "csrf_token": session.csrf}
    )
    assert response.status_code == 422
    assert 'data-field-error="history"' in response.text
    assert "相隔至少 12 个月" in response.text


def test_a_response_list_is_trained_from_its_form(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv

    churn_history(lake, 300)
    ids = list(range(1, 301))
    responded = [int(n % 3 == 0) for n in ids]
    buffer = io.BytesIO()
    pa_csv.write_csv(pa.table({"customer_id": ids, "responded": responded}), buffer)
    session = signed_in("mkt")
    response = session.client.post(
        "/models/upload",
        data={
            "preset": "response",
            "response_name": "春季活动",
            "campaign_start": "2025-06-01",
            "csrf_token": session.csrf,
        },
        files={"response_file": ("spring.csv", buffer.getvalue(), "text/csv")},
    )
    assert response.status_code == 303
    card = session.client.get(response.headers["location"]).text
    assert "营销活动响应" in card
    assert "2025-05-31" in card


def test_a_response_list_without_its_campaign_date_is_refused_next_to_the_field(
    lake: Lake, signed_in
) -> None:  # type: ignore[no-untyped-def]
    churn_history(lake, 30)
    session = signed_in("mkt")
    response = session.client.post(
        "/models/upload",
        data={"preset": "response", "response_name": "x", "csrf_token": session.csrf},
        files={"response_file": ("r.csv", b"customer_id,responded\n1,0\n", "text/csv")},
    )
    assert response.status_code == 422
    assert 'data-field-error="campaign_start"' in response.text
