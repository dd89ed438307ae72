package names

// variants is the table of names with their spellings: Latin (English,
// Somali, French transliterations) and Arabic script. Each line is one
// name; its first spelling is its canonical form. Spellings are written
// as people write them and normalised when the table is built.
//
// Add a line, or a spelling to a line, when registration staff meet a
// spelling that is not matched; the test in names_test.go checks that no
// spelling stands for two names.
var variants = [][]string{
	{"Mohamed", "Mohammed", "Muhammad", "Mohamud", "Maxamed", "Mahamed", "Mohammad", "Muhammed", "Mohamad", "Mahomed", "Mouhamed", "Maxammed", "محمد"},
	{"Mahmoud", "Mahmud", "Maxamuud", "Mahmood", "محمود"},
	{"Abdi", "Cabdi", "Abdiy", "عبدي"},
	{"Abdullahi", "Cabdullaahi", "Abdullah", "Abdallah", "Abdalla", "Abdulla", "Cabdulle", "Abdillahi", "Cabdillaahi", "عبدالله", "عبداللهي"},
	{"Abdirahman", "Cabdiraxmaan", "Abdulrahman", "Abdurahman", "Abdelrahman", "Abdirahmaan", "Abdurrahman", "Abderrahmane", "عبدالرحمن"},
	{"Abdikarim", "Cabdikariim", "Abdulkarim", "Abdelkarim", "Abdikariim", "عبدالكريم"},
	{"Abdirashid", "Cabdirashiid", "Abdulrashid", "Abdirashiid", "عبدالرشيد"},
	{"Abukar", "Abuukar", "Abubakar", "Abubakr", "Aboubakar", "Abubaker", "ابوبكر"},
	{"Ahmed", "Axmed", "Ahmad", "Ahmet", "Axmad", "أحمد"},
	{"Hassan", "Xasan", "Hasan", "Hassen", "Xassan", "حسن"},
	{"Hussein", "Xuseen", "Husein", "Hussain", "Husain", "Hussen", "Xuseyn", "Houssein", "Hossein", "حسين"},
	{"Fatima", "Faadumo", "Fatuma", "Fatimah", "Faduma", "Fadumo", "Fatouma", "Fatma", "فاطمة"},
	{"Aisha", "Caasha", "Ayesha", "Aysha", "Aicha", "Aishah", "Caysha", "عائشة"},
	{"Ali", "Cali", "Aly", "Caali", "علي"},
	{"Omar", "Cumar", "Umar", "Omer", "Oumar", "عمر"},
	{"Osman", "Cusmaan", "Othman", "Uthman", "Usman", "Osmaan", "Cismaan", "Ismaan", "عثمان"},
	{"Yusuf", "Yuusuf", "Yousef", "Yousuf", "Yusef", "Youssef", "Yussuf", "Youssouf", "يوسف"},
	{"Ibrahim", "Ibraahim", "Ibrahiim", "Ebrahim", "Ibrahima", "Ibraahin", "إبراهيم"},
	{"Ismail", "Ismaaciil", "Ismael", "Ismaiil", "Esmail", "Ismaciil", "إسماعيل"},
	{"Khadija", "Khadiija", "Xadiijo", "Kadija", "Khadijah", "Xadiija", "Khadidja", "خديجة"},
	{"Halima", "Xaliimo", "Halimo", "Haleema", "Xalimo", "Halimah", "حليمة"},
	{"Amina", "Aamina", "Amiina", "Aminah", "Aminata", "آمنة", "أمينة"},
	{"Maryam", "Mariam", "Maryan", "Mariyam", "Maryama", "Mariama", "Meryem", "مريم"},
	{"Zainab", "Zeinab", "Seynab", "Zaynab", "Sainab", "Zeynab", "زينب"},
	{"Hawa", "Xaawo", "Hawo", "Haawa", "Xawa", "حواء"},
	{"Nur", "Nuur", "Noor", "Nour", "Nuura", "نور"},
	{"Said", "Saciid", "Saeed", "Saiid", "Sayid", "Saied", "سعيد"},
	{"Farah", "Faarax", "Fara", "Farax", "فرح"},
	{"Jama", "Jaamac", "Jamac", "Jaama", "جامع"},
	{"Mustafa", "Mustaf", "Mustafe", "Mustapha", "Mustafaa", "Moustafa", "مصطفى"},
	{"Khalid", "Khaalid", "Xaalid", "Khaled", "Xalid", "Kalid", "خالد"},
	{"Idris", "Idiris", "Idriss", "Edris", "Idiriis", "إدريس"},
	{"Adam", "Aadan", "Adan", "Aden", "Adem", "آدم"},
	{"Suleiman", "Suleyman", "Sulaiman", "Sulayman", "Suleymaan", "Sleiman", "Suleman", "سليمان"},
	{"Hamid", "Xaamid", "Hamed", "Haamid", "حامد"},
	{"Rashid", "Rashiid", "Rachid", "Raashid", "Rasheed", "رشيد"},
	{"Yasmin", "Yasmiin", "Yasmine", "Yesmin", "ياسمين"},
	{"Zahra", "Sahra", "Sahro", "Zahara", "Zahraa", "Saxra", "زهراء"},
	{"Hersi", "Xirsi", "Hirsi", "Hirse"},
	{"Warsame", "Warsama", "Warsaame"},
}

// variantTable is the variants table, ready to look parts up in.
type variantTable struct {
	// exact maps each normalised spelling to its canonical name.
	exact map[string]string
	// bySkeleton maps each spelling's skeleton to its canonical name,
	// for the skeletons that only one canonical name has.
	bySkeleton map[string]string
	// clashes maps each normalised spelling that stands for two names to
	// both; the tests keep it empty.
	clashes map[string][2]string
}

var table = buildTable(variants)

func buildTable(lines [][]string) variantTable {
	t := variantTable{exact: map[string]string{}, bySkeleton: map[string]string{}, clashes: map[string][2]string{}}
	ambiguous := map[string]bool{}
	for _, line := range lines {
		canon := Normalise(line[0])
		for _, spelling := range line {
			n := Normalise(spelling)
			if other, ok := t.exact[n]; ok && other != canon {
				t.clashes[n] = [2]string{other, canon}
				continue
			}
			t.exact[n] = canon
			sk := Skeleton(n)
			if len(sk) < minSkeleton || ambiguous[sk] {
				continue
			}
			if other, ok := t.bySkeleton[sk]; ok && other != canon {
				delete(t.bySkeleton, sk)
				ambiguous[sk] = true
				continue
			}
			t.bySkeleton[sk] = canon
		}
	}
	return t
}
