package protoconv_test

import (
	"reflect"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/protoconv"
	"github.com/tollgate-dev/tollgate/registry"
)

// Every field of a policy survives the round trip: a field added to one
// side and not the other would be silently dropped on the wire.
func TestPolicyRoundTrip(t *testing.T) {
	p := registry.Policy{}
	v := reflect.ValueOf(&p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("v" + v.Type().Field(i).Name)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"a", v.Type().Field(i).Name}))
		case reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(i + 1))
		case reflect.Int32, reflect.Int64:
			f.SetInt(int64(i + 1))
		default:
			t.Fatalf("policy field %s has kind %s: teach this test to fill it", v.Type().Field(i).Name, f.Kind())
		}
	}
	if got := protoconv.Policy(protoconv.PolicyProto(p)); !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip gave %+v, want %+v", got, p)
	}
}
