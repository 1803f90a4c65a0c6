package output

import (
	"reflect"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

// maxDepth bounds the walk over a document, against cycles through pointers.
const maxDepth = 64

// redacted returns a copy of doc with every string redacted: a string under a secret-looking name (a
// field's JSON name or a map key) is masked whole, any other string through redact.String. The
// document itself is not changed; values the walk cannot copy (unexported fields, custom
// marshalers' internals) stay as they are.
func redacted(doc any) any { return mapStrings(doc, redact.Value) }

// mapStrings returns a copy of doc with every string s under name (a field's JSON name or a map
// key; "" elsewhere) replaced by fn(name, s).
func mapStrings(doc any, fn func(name, s string) string) any {
	if doc == nil {
		return nil
	}
	v := mapValue(reflect.ValueOf(doc), "", 0, fn)
	if !v.IsValid() || !v.CanInterface() {
		return doc
	}
	return v.Interface()
}

func mapValue(v reflect.Value, name string, depth int, fn func(name, s string) string) reflect.Value {
	if !v.IsValid() || depth > maxDepth {
		return v
	}
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(fn(name, v.String()))
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(mapValue(v.Elem(), name, depth+1, fn))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(mapValue(v.Elem(), name, depth+1, fn))
		return out
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			return v // []byte and json.RawMessage are not text to redact
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(mapValue(v.Index(i), name, depth+1, fn))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(mapValue(v.Index(i), name, depth+1, fn))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			key := it.Key()
			keyName := ""
			if key.Kind() == reflect.String {
				keyName = key.String()
				key = mapValue(key, "", depth+1, fn)
			}
			out.SetMapIndex(key, mapValue(it.Value(), keyName, depth+1, fn))
		}
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		t := v.Type()
		for i := range v.NumField() {
			f := t.Field(i)
			if !f.IsExported() || !out.Field(i).CanSet() {
				continue
			}
			out.Field(i).Set(mapValue(v.Field(i), jsonName(f), depth+1, fn))
		}
		return out
	}
	return v
}

// jsonName is the name a field is printed under.
func jsonName(f reflect.StructField) string {
	if tag, ok := f.Tag.Lookup("json"); ok {
		if n, _, _ := strings.Cut(tag, ","); n != "" && n != "-" {
			return n
		}
	}
	return f.Name
}
