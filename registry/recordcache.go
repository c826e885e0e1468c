package registry

import (
	"container/list"
	"slices"
	"sync"
)

// RecordCacheBytes bounds the decoded records a registry keeps in memory.
const RecordCacheBytes = 16 << 20

// recordCache keeps decoded records by datanet and id, least recently used
// out first. A record is never changed or removed once added, so an entry
// is never stale; this spares the hot records of a datanet a Badger read
// and a JSON decode on every search that returns them.
type recordCache struct {
	mu    sync.Mutex
	max   int
	bytes int
	byKey map[string]*list.Element
	lru   list.List // front: most recently used *cachedRecord
}

type cachedRecord struct {
	key string
	rec Record
}

func newRecordCache(max int) *recordCache {
	return &recordCache{max: max, byKey: map[string]*list.Element{}}
}

func recordCacheKey(datanet, id string) string { return datanet + "\x00" + id }

// cost is what a record is counted as: its bytes and a fixed overhead.
func (c *cachedRecord) cost() int {
	return len(c.key) + len(c.rec.Datanet) + len(c.rec.ID) + len(c.rec.Contributor) + len(c.rec.Content) + len(c.rec.Signature) + 256
}

// get returns a copy of the record kept for datanet and id.
func (c *recordCache) get(datanet, id string) (Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.byKey[recordCacheKey(datanet, id)]
	if el == nil {
		return Record{}, false
	}
	c.lru.MoveToFront(el)
	rec := el.Value.(*cachedRecord).rec
	rec.Signature = slices.Clone(rec.Signature)
	return rec, true
}

// put keeps rec as datanet's record id, evicting the least recently used
// records past the bound.
func (c *recordCache) put(datanet, id string, rec Record) {
	e := &cachedRecord{key: recordCacheKey(datanet, id), rec: rec}
	e.rec.Signature = slices.Clone(rec.Signature) // the caller keeps its own
	if e.cost() > c.max/16 {
		return // one record may not crowd out the rest
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[e.key]; ok {
		return
	}
	c.byKey[e.key] = c.lru.PushFront(e)
	c.bytes += e.cost()
	for c.bytes > c.max {
		old := c.lru.Remove(c.lru.Back()).(*cachedRecord)
		delete(c.byKey, old.key)
		c.bytes -= old.cost()
	}
}
