"""The product supermarket (金融产品超市): institutions publish products, everyone browses them."""
