module goswan

go 1.26
