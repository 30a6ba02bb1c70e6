module hecd.dev/goreference

go 1.19
