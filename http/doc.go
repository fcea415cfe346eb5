// Package http is chuting's JSON API over net/http: one file per resource, the route table
// that decides authorisation (route.go), the one table from error codes to statuses
// (error.go), strict JSON decoding (json.go), the audit trail of every state-changing request
// (route.go, audit) and the OpenAPI document (openapi.yaml), which a test keeps in step with
// the routes and every answer the tests receive. Errors always have the shape {"error":{"code":…,"message":…,"field":…}}.
package http
