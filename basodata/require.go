package basodata

// Entity sets obmin reads or writes (docs/bas-odata.md §4, §5).
const (
	SetReport          = "Document_ОтчетОРозничныхПродажах"
	SetReportStock     = "Document_ОтчетОРозничныхПродажах_Запасы_RowType" // row type of the Запасы section
	SetReportCards     = "Document_ОтчетОРозничныхПродажах_ОплатаПлатежнымиКартами_RowType"
	SetTills           = "Catalog_КассыККМ"
	SetUnitsOrg        = "Catalog_СтруктурныеЕдиницы"
	SetOrganizations   = "Catalog_Организации"
	SetPriceKinds      = "Catalog_ВидыЦен"
	SetVATRates        = "Catalog_СтавкиНДС"
	SetItems           = "Catalog_Номенклатура"
	SetCharacteristics = "Catalog_ХарактеристикиНоменклатуры"
	SetUnits           = "Catalog_КлассификаторЕдиницИзмерения"
	SetCurrencies      = "Catalog_Валюты"
	SetCashFlowItems   = "Catalog_СтатьиДвиженияДенежныхСредств"
	SetTerminals       = "Catalog_ЭквайринговыеТерминалы"
)

// Requirement kinds.
const (
	KindObject   = "object"   // an entity set
	KindRow      = "row"      // a tabular section's row type
	KindFunction = "function" // a bound function (Post, Unpost)
)

// Requirement is one object, row type or function obmin uses, with the properties it reads or writes.
type Requirement struct {
	Kind   string
	Set    string   // entity set or row type; the bound entity type for a function
	Name   string   // function name
	Object string   // how the administrator finds it: the 1C metadata name and its Ukrainian presentation
	Props  []string // properties obmin uses
}

var catalogStd = []string{"Ref_Key", "DataVersion", "Description", "Code", "DeletionMark"}

func withStd(props ...string) []string { return append(append([]string(nil), catalogStd...), props...) }

// Requirements lists everything obmin needs the base to publish, in the order an administrator would
// tick it in the setup processor. `obmin check` prints it.
func Requirements() []Requirement {
	return []Requirement{
		{Kind: KindObject, Set: SetReport, Object: "Документ.ОтчетОРозничныхПродажах («Звіт про роздрібні продажі»)", Props: []string{
			"Ref_Key", "DataVersion", "Number", "Date", "DeletionMark", "Posted",
			"ВалютаДокумента_Key", "ВидЦен_Key", "КассаККМ_Key", "Комментарий", "НачалоКассовойСмены", "ОкончаниеКассовойСмены",
			"Организация_Key", "Подразделение_Key", "СтруктурнаяЕдиница_Key", "СтатусКассовойСмены", "СуммаДокумента",
			"НалогообложениеНДС", "СуммаВключаетНДС", "НДСВключатьВСтоимость", "Статья_Key", "Запасы", "ОплатаПлатежнымиКартами"}},
		{Kind: KindRow, Set: SetReportStock, Object: "Документ.ОтчетОРозничныхПродажах, табличная часть Запасы", Props: []string{
			"LineNumber", "Номенклатура_Key", "Характеристика_Key", "Количество", "ЕдиницаИзмерения", "ЕдиницаИзмерения_Type",
			"Цена", "ПроцентСкидкиНаценки", "Сумма", "СтавкаНДС_Key", "СуммаНДС", "Всего", "Возврат"}},
		{Kind: KindRow, Set: SetReportCards, Object: "Документ.ОтчетОРозничныхПродажах, табличная часть ОплатаПлатежнымиКартами", Props: []string{
			"LineNumber", "ЭквайринговыйТерминал_Key", "ВидПлатежнойКарты", "НомерПлатежнойКарты", "Сумма", "ДатаПлатежа"}},
		{Kind: KindFunction, Set: SetReport, Name: "Post", Object: "Документ.ОтчетОРозничныхПродажах: проведення (Post)"},
		{Kind: KindFunction, Set: SetReport, Name: "Unpost", Object: "Документ.ОтчетОРозничныхПродажах: скасування проведення (Unpost)"},
		{Kind: KindObject, Set: SetTills, Object: "Справочник.КассыККМ («Каси ККМ»)", Props: withStd(
			"Owner_Key", "СтруктурнаяЕдиница_Key", "Подразделение_Key", "ТипКассы", "ВалютаДенежныхСредств_Key")},
		{Kind: KindObject, Set: SetUnitsOrg, Object: "Справочник.СтруктурныеЕдиницы («Структурні одиниці»)", Props: withStd(
			"ТипСтруктурнойЕдиницы", "Организация_Key", "РозничныйВидЦен_Key")},
		{Kind: KindObject, Set: SetOrganizations, Object: "Справочник.Организации («Організації»)", Props: withStd()},
		{Kind: KindObject, Set: SetPriceKinds, Object: "Справочник.ВидыЦен («Види цін»)", Props: withStd("ЦенаВключаетНДС")},
		{Kind: KindObject, Set: SetVATRates, Object: "Справочник.СтавкиНДС («Ставки ПДВ»)", Props: []string{
			"Ref_Key", "Description", "DeletionMark", "Ставка", "НеОблагается"}},
		{Kind: KindObject, Set: SetItems, Object: "Справочник.Номенклатура («Номенклатура»)", Props: withStd(
			"IsFolder", "Артикул", "ЕдиницаИзмерения_Key", "ТипНоменклатуры", "СтавкаНДС_Key")},
		{Kind: KindObject, Set: SetCharacteristics, Object: "Справочник.ХарактеристикиНоменклатуры («Характеристики номенклатури»)", Props: withStd(
			"Owner", "Owner_Type")},
		{Kind: KindObject, Set: SetUnits, Object: "Справочник.КлассификаторЕдиницИзмерения («Класифікатор одиниць виміру»)", Props: withStd()},
		{Kind: KindObject, Set: SetCurrencies, Object: "Справочник.Валюты («Валюти»)", Props: withStd()},
		{Kind: KindObject, Set: SetCashFlowItems, Object: "Справочник.СтатьиДвиженияДенежныхСредств («Статті руху грошових коштів»)", Props: withStd(
			"PredefinedDataName")},
		{Kind: KindObject, Set: SetTerminals, Object: "Справочник.ЭквайринговыеТерминалы («Еквайрингові термінали»)", Props: withStd(
			"Организация_Key", "Касса", "Касса_Type", "ВидыПлатежныхКарт")},
	}
}
