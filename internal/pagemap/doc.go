// Package pagemap reads the kernel's page map of the process
// (/proc/self/pagemap, Documentation/admin-guide/mm/pagemap.rst): for each
// page of its address space, whether the page is present, swapped out, or
// a page of a file (or of shared memory) rather than the process's own.
// It exists on Linux only.
package pagemap
