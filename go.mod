module github.com/centrapos/centrapos

go 1.26
