module github.com/faultline-go/faultline/tests/standards

go 1.26.0

replace github.com/faultline-go/faultline => ../..

require (
	github.com/faultline-go/faultline v0.0.0-00010101000000-000000000000
	github.com/googleapis/gax-go/v2 v2.27.0
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	github.com/stretchr/testify v1.12.1
	google.golang.org/api v0.315.0
	google.golang.org/grpc v1.85.0
)

require (
	github.com/google/uuid v1.6.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261104224025-d1e00e9f33ab // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
