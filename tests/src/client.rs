//! The suites' HTTP client: reqwest's, with every answer checked against
//! the API's contract (docs/openapi.json, see [`crate::contract`]) before
//! the test sees it. An answer that contradicts the document fails the test
//! that received it, naming the operation and what is wrong.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{IntoUrl, Method, Response, ResponseBuilderExt};
use serde::Serialize;
use std::time::Duration;

use crate::contract::contract;

#[derive(Clone, Debug)]
pub struct Client {
    inner: reqwest::Client,
}

impl From<reqwest::Client> for Client {
    fn from(inner: reqwest::Client) -> Self {
        Self { inner }
    }
}

impl Client {
    pub fn request(&self, method: Method, url: impl IntoUrl) -> RequestBuilder {
        RequestBuilder {
            inner: self.inner.request(method, url),
        }
    }

    pub fn get(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    pub fn patch(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    pub fn delete(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    pub fn head(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }
}

/// reqwest's builder, whose [`Self::send`] checks the answer.
#[derive(Debug)]
pub struct RequestBuilder {
    inner: reqwest::RequestBuilder,
}

impl RequestBuilder {
    fn map(self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        Self {
            inner: f(self.inner),
        }
    }

    pub fn header<K, V>(self, key: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.map(|b| b.header(key, value))
    }

    pub fn headers(self, headers: HeaderMap) -> Self {
        self.map(|b| b.headers(headers))
    }

    pub fn bearer_auth(self, token: impl std::fmt::Display) -> Self {
        self.map(|b| b.bearer_auth(token))
    }

    pub fn json<T: Serialize + ?Sized>(self, json: &T) -> Self {
        self.map(|b| b.json(json))
    }

    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        self.map(|b| b.body(body))
    }

    pub fn query<T: Serialize + ?Sized>(self, query: &T) -> Self {
        self.map(|b| b.query(query))
    }

    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|b| b.timeout(timeout))
    }

    pub fn try_clone(&self) -> Option<Self> {
        self.inner.try_clone().map(|inner| Self { inner })
    }

    /// Sends the request, reads the whole answer, and panics if the
    /// document says otherwise; the test gets the answer as received.
    pub async fn send(self) -> reqwest::Result<Response> {
        let (client, request) = self.inner.build_split();
        let request = request?;
        let (method, url) = (request.method().clone(), request.url().clone());
        let response = client.execute(request).await?;
        let (status, version) = (response.status(), response.version());
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        if let Err(contradiction) = contract().check(
            method.as_str(),
            url.path(),
            status.as_u16(),
            &headers,
            &body,
        ) {
            panic!("the answer contradicts docs/openapi.json: {contradiction}");
        }
        let mut rebuilt = http::Response::builder()
            .status(status)
            .version(version)
            .url(url);
        *rebuilt.headers_mut().expect("a builder") = headers;
        Ok(Response::from(rebuilt.body(body).expect("a response")))
    }
}
