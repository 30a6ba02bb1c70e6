// Package memkv holds memkv's two types under their own package name, so that %T and %#v print
// memkv.KVPair and memkv.KVPairs as they do in confd.
package memkv

// KVPair is a key and its value: what get returns and what gets' list holds.
type KVPair struct {
	Key   string
	Value string
}

// KVPairs is what gets returns: a named type, which confd's reverse does not recognise.
type KVPairs []KVPair

func (ks KVPairs) Len() int           { return len(ks) }
func (ks KVPairs) Less(i, j int) bool { return ks[i].Key < ks[j].Key }
func (ks KVPairs) Swap(i, j int)      { ks[i], ks[j] = ks[j], ks[i] }
