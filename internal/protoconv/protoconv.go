// Package protoconv converts between the API's proto messages and the
// domain types of the registry, so the server and the clients that read
// it (the verifier, the CLI) translate a message the same way.
package protoconv

import (
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/registry"
)

// PolicyProto is a datanet policy as the API sends it.
func PolicyProto(p registry.Policy) *tollgatev1.Policy {
	return &tollgatev1.Policy{Access: p.Access, Agents: p.Agents, MinAgentPrice: p.MinAgentPrice,
		Write: p.Write, Writers: p.Writers, WriterQuota: p.WriterQuota, WriterQuotaBytes: p.WriterQuotaBytes, Attribution: p.Attribution, Models: p.Models}
}

// Policy is the registry policy an API message describes.
func Policy(p *tollgatev1.Policy) registry.Policy {
	return registry.Policy{Access: p.GetAccess(), Agents: p.GetAgents(), MinAgentPrice: p.GetMinAgentPrice(),
		Write: p.GetWrite(), Writers: p.GetWriters(), WriterQuota: p.GetWriterQuota(), WriterQuotaBytes: p.GetWriterQuotaBytes(), Attribution: p.GetAttribution(), Models: p.GetModels()}
}
