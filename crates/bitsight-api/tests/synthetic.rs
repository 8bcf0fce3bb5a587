//! The client against the synthetic portfolio server: the whole portfolio, faults,
//! findings added between and during runs, and why findings need a sort.
#![cfg(feature = "synthetic")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;
use std::time::Duration;

use bitsight_api::synthetic::{Fault, PortfolioSpec, ServerHandle, SyntheticPortfolio, serve};
use bitsight_api::{
    ApiError, Client, ClientConfig, FindingIdentity, FindingsQuery, RiskVector, Secret,
    SeverityCategory,
};
use futures::{StreamExt, TryStreamExt};
use time::macros::date;

fn spec(companies: usize, findings: usize) -> PortfolioSpec {
    PortfolioSpec {
        seed: 99,
        companies,
        findings_per_company: findings,
        first_date: date!(2024 - 01 - 01),
        last_date: date!(2024 - 06 - 30),
    }
}

async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .expect("test took too long")
}

async fn start(companies: usize, findings: usize) -> (ServerHandle, Client) {
    let server = serve(SyntheticPortfolio::generate(spec(companies, findings)))
        .await
        .unwrap();
    let client = Client::new(ClientConfig {
        max_retries: 3,
        ..server.client_config()
    })
    .unwrap();
    (server, client)
}

fn page(size: u16) -> FindingsQuery {
    FindingsQuery {
        page_size: size,
        ..FindingsQuery::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_portfolio_in_parallel_matches_the_generated_data() {
    let (server, client) = bounded(start(4, 300)).await;
    let portfolio: Vec<_> = bounded(client.portfolio().try_collect()).await.unwrap();
    assert_eq!(portfolio.len(), 4);
    let tasks: Vec<_> = portfolio
        .iter()
        .map(|company| {
            let client = client.clone();
            let guid = company.guid().to_owned();
            tokio::spawn(async move {
                client
                    .findings(&guid, &page(70))
                    .try_collect::<Vec<_>>()
                    .await
            })
        })
        .collect();
    for (index, task) in tasks.into_iter().enumerate() {
        let findings = bounded(task).await.unwrap().unwrap();
        let expected = server.with_portfolio(|p| p.findings_json(index));
        let got: Vec<&str> = findings
            .iter()
            .map(bitsight_api::Finding::raw_json)
            .collect();
        assert_eq!(
            got, expected,
            "company {index}: every finding, whole, in first_seen order"
        );
    }
    let details = bounded(client.company(portfolio[0].guid())).await.unwrap();
    assert_eq!(details.guid(), portfolio[0].guid());
    let companies = bounded(client.companies()).await.unwrap();
    assert_eq!(companies.my_company.as_deref(), Some(portfolio[0].guid()));
}

#[tokio::test]
async fn filters_are_applied_by_the_server() {
    let (server, client) = bounded(start(1, 500)).await;
    let guid = server.with_portfolio(|p| p.company_guids()[0].clone());
    let query = FindingsQuery {
        first_seen_gte: Some(date!(2024 - 03 - 01)),
        risk_vectors: vec![RiskVector::OpenPorts, RiskVector::Spf],
        ..page(50)
    }
    .min_severity(&SeverityCategory::Material);
    let findings: Vec<_> = bounded(client.findings(&guid, &query).try_collect())
        .await
        .unwrap();
    assert!(!findings.is_empty());
    for finding in &findings {
        assert!(finding.first_seen().unwrap() >= date!(2024 - 03 - 01));
        assert!(finding.severity().unwrap() >= 7.0);
        assert!(matches!(
            finding.risk_vector(),
            Some(RiskVector::OpenPorts | RiskVector::Spf)
        ));
    }
    let statistics = bounded(client.findings_statistics(&guid, &query))
        .await
        .unwrap();
    assert_eq!(statistics.0["count"], findings.len());
}

#[tokio::test]
async fn faults_are_survived_or_reported() {
    let (server, client) = bounded(start(1, 250)).await;
    let guid = server.with_portfolio(|p| p.company_guids()[0].clone());
    server.inject(Fault::RateLimit {
        retry_after: None,
        times: 1,
    });
    server.inject(Fault::ServerError {
        status: 524,
        at_offset: 100,
        times: 2,
    });
    server.inject(Fault::EmptyPage {
        at_offset: 200,
        times: 1,
    });
    let findings: Vec<_> = bounded(client.findings(&guid, &page(100)).try_collect())
        .await
        .unwrap();
    assert_eq!(findings.len(), 250);

    server.inject(Fault::MalformedJson {
        at_offset: 0,
        times: 1,
    });
    let first = bounded(client.findings(&guid, &page(100)).next())
        .await
        .unwrap();
    assert!(matches!(first, Err(ApiError::Decode { .. })));

    let wrong = Client::new(ClientConfig {
        token: Secret::new("wrong"),
        ..server.client_config()
    })
    .unwrap();
    assert!(matches!(
        bounded(wrong.companies()).await,
        Err(ApiError::Unauthorized { .. })
    ));
}

#[tokio::test]
async fn findings_added_between_and_during_runs_are_all_seen_with_a_sort() {
    let (server, client) = bounded(start(1, 300)).await;
    let guid = server.with_portfolio(|p| p.company_guids()[0].clone());
    let identities = |findings: &[bitsight_api::Finding]| -> HashSet<FindingIdentity> {
        findings.iter().map(|f| f.identity().clone()).collect()
    };
    let first_run: Vec<_> = bounded(client.findings(&guid, &page(100)).try_collect())
        .await
        .unwrap();
    assert_eq!(server.add_findings(0, 20, date!(2024 - 06 - 30)), 20);

    // During a run: after the first page, more findings arrive; sorted by first_seen
    // they land at the tail, so the run still sees every finding present at its start.
    let mut stream = client.findings(&guid, &page(100));
    let mut second_run = vec![bounded(stream.next()).await.unwrap().unwrap()];
    server.add_findings(0, 5, date!(2024 - 06 - 30));
    while let Some(finding) = bounded(stream.next()).await {
        second_run.push(finding.unwrap());
    }
    assert!(identities(&second_run).is_superset(&identities(&first_run)));
    assert_eq!(second_run.len(), 325);
    assert_eq!(identities(&second_run).len(), 325, "no duplicates");
}

#[tokio::test]
async fn without_a_sort_offset_paging_skips_findings() {
    // Why the client always sorts: the server's default order (by severity) moves
    // findings added mid-run in front of the offset cursor.
    let (server, _client) = bounded(start(1, 300)).await;
    let guid = server.with_portfolio(|p| p.company_guids()[0].clone());
    let base = server.base_url();
    let http = reqwest::Client::new();
    let get = |offset: u64| {
        let url = base
            .join(&format!(
                "ratings/v1/companies/{guid}/findings?limit=100&offset={offset}"
            ))
            .unwrap();
        http.get(url)
            .basic_auth(bitsight_api::synthetic::SYNTHETIC_TOKEN, Some(""))
            .send()
    };
    let mut seen = HashSet::new();
    for offset in [0, 100, 200, 300] {
        if offset == 100 {
            server.add_findings(0, 50, date!(2024 - 06 - 30));
        }
        let page: serde_json::Value = bounded(get(offset)).await.unwrap().json().await.unwrap();
        for finding in page["results"].as_array().unwrap() {
            seen.insert(finding["temporary_id"].as_str().unwrap().to_owned());
        }
    }
    let total = server.with_portfolio(|p| p.finding_count(0));
    assert!(
        seen.len() < total,
        "unsorted paging saw {} of {total}",
        seen.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn light_pages_agree_with_the_full_stream() {
    let (server, client) = bounded(start(1, 730)).await;
    let guid = server.with_portfolio(|p| p.company_guids()[0].clone());
    let full: Vec<_> = bounded(client.findings(&guid, &page(100)).try_collect())
        .await
        .unwrap();
    let before = server.requests();
    let pages: Vec<_> = bounded(client.findings_pages(&guid, &page(100)).try_collect())
        .await
        .unwrap();
    assert_eq!(server.requests() - before, 8, "one request per page");
    let offsets: Vec<_> = pages
        .iter()
        .map(|p| (p.offset(), p.next_offset()))
        .collect();
    assert_eq!(offsets[0], (0, Some(100)));
    assert_eq!(offsets[7], (700, None));
    assert!(
        pages
            .iter()
            .all(|p| p.count() == Some(730) && p.company_guid() == guid)
    );
    let light: Vec<_> = pages
        .iter()
        .flat_map(bitsight_api::FindingsPage::iter)
        .collect();
    assert_eq!(light.len(), full.len());
    for (light, full) in light.iter().zip(&full) {
        assert_eq!(light.raw_json(), full.raw_json());
        assert_eq!(light.identity(), full.identity_ref());
        assert_eq!(light.identity(), *full.identity());
        assert_eq!(light.temporary_id(), full.temporary_id());
        assert_eq!(light.first_seen(), full.first_seen());
        assert_eq!(light.last_seen(), full.last_seen());
        assert_eq!(&light.to_finding().unwrap(), full);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_pages_start_early_and_waste_no_request() {
    let (server, client) = bounded(start(1, 500)).await;
    let guid = server.with_portfolio(|p| p.company_guids()[0].clone());
    let full: Vec<_> = bounded(client.findings(&guid, &page(100)).try_collect())
        .await
        .unwrap();
    let before = server.requests();
    let pages: Vec<_> = bounded(
        client
            .findings_pages_with_overlap(&guid, &page(100), 8)
            .try_collect(),
    )
    .await
    .unwrap();
    let offsets: Vec<_> = pages
        .iter()
        .map(bitsight_api::FindingsPage::offset)
        .collect();
    assert_eq!(offsets, [0, 92, 184, 276, 368, 460]);
    assert_eq!(pages.last().unwrap().len(), 40);
    assert_eq!(server.requests() - before, 6, "one request per page");
    for page in &pages {
        let start = usize::try_from(page.offset()).unwrap();
        for (at, finding) in page.iter().enumerate() {
            assert_eq!(finding.raw_json(), full[start + at].raw_json());
        }
    }
    // An overlap as large as the page still moves on, one finding at a time.
    let tiny: Vec<_> = bounded(
        client
            .findings_pages_with_overlap(&guid, &page(3), 5)
            .take(4)
            .try_collect(),
    )
    .await
    .unwrap();
    let offsets: Vec<_> = tiny
        .iter()
        .map(bitsight_api::FindingsPage::offset)
        .collect();
    assert_eq!(offsets, [0, 1, 2, 3]);
}
