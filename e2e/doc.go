// Package e2e drives a real ossd over HTTP with the official clients:
// the Alibaba Cloud OSS Go SDKs v1 and v2. It holds tests only.
package e2e
